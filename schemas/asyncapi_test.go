package schemas_test

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/schemas"
)

// asyncAPIDoc parses the AsyncAPI document into generic JSON values
// (through JSON, so numbers are what a JSON tool would see).
func asyncAPIDoc(t *testing.T) map[string]any {
	t.Helper()
	var y any
	if err := yaml.Unmarshal(schemas.AsyncAPI(), &y); err != nil {
		t.Fatalf("asyncapi.yaml is not YAML: %v", err)
	}
	b, err := json.Marshal(y)
	if err != nil {
		t.Fatalf("asyncapi.yaml does not convert to JSON: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestAsyncAPIMatchesFS(t *testing.T) {
	b, err := schemas.FS.ReadFile(schemas.AsyncAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, schemas.AsyncAPI()) {
		t.Fatal("AsyncAPI() differs from FS")
	}
	schemas.AsyncAPI()[0] = 'x' // a copy: must not change what others see
	if !bytes.Equal(b, schemas.AsyncAPI()) {
		t.Fatal("AsyncAPI() returns shared memory")
	}
}

// TestAsyncAPIValidDocument checks the structure an AsyncAPI 3.0 document
// must have: the version, info, channels with an address and messages, and
// operations with an action and a channel reference.
func TestAsyncAPIValidDocument(t *testing.T) {
	doc := asyncAPIDoc(t)
	if doc["asyncapi"] != "3.0.0" {
		t.Fatalf("asyncapi version %v, want 3.0.0", doc["asyncapi"])
	}
	info, _ := doc["info"].(map[string]any)
	if info["title"] == nil || info["version"] == nil {
		t.Fatalf("info needs title and version: %v", info)
	}
	for name, c := range members(t, doc, "channels") {
		if addr, _ := c["address"].(string); addr == "" {
			t.Errorf("channel %s has no address", name)
		}
		if msgs, _ := c["messages"].(map[string]any); len(msgs) == 0 {
			t.Errorf("channel %s has no messages", name)
		}
	}
	for name, o := range members(t, doc, "operations") {
		if a := o["action"]; a != "send" && a != "receive" {
			t.Errorf("operation %s: action %v, want send or receive", name, a)
		}
		ch, _ := o["channel"].(map[string]any)
		if ref, _ := ch["$ref"].(string); !strings.HasPrefix(ref, "#/channels/") {
			t.Errorf("operation %s: channel must reference #/channels/..., got %v", name, o["channel"])
		}
	}
}

// members is the object doc[key] with each of its members as an object (a
// member that is not one is empty); it fails the test when there are none.
func members(t *testing.T, doc map[string]any, key string) map[string]map[string]any {
	t.Helper()
	m, _ := doc[key].(map[string]any)
	if len(m) == 0 {
		t.Fatalf("no %s", key)
	}
	out := make(map[string]map[string]any, len(m))
	for name, v := range m {
		out[name], _ = v.(map[string]any)
	}
	return out
}

// refs collects every $ref value in v.
func refs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				*out = append(*out, s)
			} else {
				refs(x, out)
			}
		}
	case []any:
		for _, x := range v {
			refs(x, out)
		}
	}
}

// pointer resolves a JSON pointer ("/a/b") in doc.
func pointer(doc any, ptr string) (any, bool) {
	v := doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[tok]; !ok {
			return nil, false
		}
	}
	return v, true
}

func TestAsyncAPIRefsResolve(t *testing.T) {
	doc := asyncAPIDoc(t)
	var all []string
	refs(doc, &all)
	if len(all) == 0 {
		t.Fatal("no $ref found")
	}
	files := map[string]bool{}
	for _, ref := range all {
		file, frag, _ := strings.Cut(ref, "#")
		target := any(doc)
		if file != "" {
			p := path.Clean(path.Join(path.Dir(schemas.AsyncAPIFile), file))
			b, err := fs.ReadFile(schemas.FS, p)
			if err != nil {
				t.Errorf("$ref %q: %v", ref, err)
				continue
			}
			if err := json.Unmarshal(b, &target); err != nil {
				t.Errorf("$ref %q: %v", ref, err)
				continue
			}
			files[p] = true
		}
		if frag != "" {
			if _, ok := pointer(target, frag); !ok {
				t.Errorf("$ref %q does not resolve", ref)
			}
		}
	}
	for _, typ := range schemas.EventTypes() {
		if p := schemas.EventSchemaPath(typ); !files[p] {
			t.Errorf("%s is not referenced by the AsyncAPI document", p)
		}
	}
}

// resolve follows a local $ref of the AsyncAPI document.
func resolve(t *testing.T, doc map[string]any, v any) map[string]any {
	t.Helper()
	m, _ := v.(map[string]any)
	if ref, ok := m["$ref"].(string); ok {
		r, ok := pointer(doc, strings.TrimPrefix(ref, "#"))
		if !ok {
			t.Fatalf("$ref %q does not resolve", ref)
		}
		m, _ = r.(map[string]any)
	}
	if m == nil {
		t.Fatalf("not an object: %v", v)
	}
	return m
}

// kinds is the target type enum of the event schemas.
func kinds(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, k := range at(loadSchema(t, events.TypeHealthChecked), "$defs", "targetType", "enum").([]any) {
		out = append(out, k.(string))
	}
	return out
}

// routingKeys expands the channel addresses of the AsyncAPI document over
// the target types, keyed by routing key, valued by event type.
func routingKeys(t *testing.T, doc map[string]any) map[string]string {
	t.Helper()
	keys := map[string]string{}
	for name, ch := range doc["channels"].(map[string]any) {
		ch := resolve(t, doc, ch)
		addr := ch["address"].(string)
		msgs := ch["messages"].(map[string]any)
		if len(msgs) != 1 {
			t.Fatalf("channel %s: %d messages, want 1", name, len(msgs))
		}
		var typ string
		for _, m := range msgs {
			typ = resolve(t, doc, m)["name"].(string)
		}
		for _, k := range kinds(t) {
			keys[strings.ReplaceAll(addr, "{targetType}", k)] = typ
		}
	}
	return keys
}

func TestAsyncAPIChannelsAreTheRoutingKeys(t *testing.T) {
	doc := asyncAPIDoc(t)
	got := routingKeys(t, doc)
	want := map[string]string{}
	for _, typ := range events.Types {
		for _, k := range kinds(t) {
			want[events.RoutingKey(typ, k)] = typ
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("channel addresses give %v, events.RoutingKey gives %v", got, want)
	}
	param := resolve(t, doc, at(doc, "channels", "healthChecked", "parameters", "targetType"))
	if !reflect.DeepEqual(param["enum"], at(loadSchema(t, events.TypeHealthChecked), "$defs", "targetType", "enum")) {
		t.Errorf("targetType parameter enum %v differs from the schema's", param["enum"])
	}
	for name, ch := range doc["channels"].(map[string]any) {
		amqp := at(resolve(t, doc, at(ch, "bindings")), "amqp")
		want := map[string]any{"name": events.Exchange, "type": "topic", "durable": true, "autoDelete": false, "vhost": "/"}
		if got := at(amqp, "exchange"); !reflect.DeepEqual(got, want) || at(amqp, "is") != "routingKey" {
			t.Errorf("channel %s: amqp binding %v, want routingKey on %v", name, amqp, want)
		}
	}
}

func TestAsyncAPIMessages(t *testing.T) {
	doc := asyncAPIDoc(t)
	msgs := doc["components"].(map[string]any)["messages"].(map[string]any)
	var names []string
	for key, m := range msgs {
		m := m.(map[string]any)
		name, _ := m["name"].(string)
		names = append(names, name)
		checks := []struct {
			what      string
			got, want any
		}{
			{"payload $ref", at(m, "payload", "schema", "$ref"), "./" + schemas.EventSchemaPath(name)},
			{"payload schemaFormat", at(m, "payload", "schemaFormat"), "application/schema+json;version=2020-12"},
			{"contentType", m["contentType"], events.DataContentType},
			{"amqp messageType", at(m, "bindings", "amqp", "messageType"), name},
			{"AMQP type", at(m, "x-amqp-properties", "type"), name},
			{"AMQP message_id", at(m, "x-amqp-properties", "message_id"), "$message.payload#/id"},
			{"AMQP content_type", at(m, "x-amqp-properties", "content_type"), events.DataContentType},
			{"AMQP delivery_mode", at(m, "x-amqp-properties", "delivery_mode"), 2.0},
		}
		for _, c := range checks {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("message %s: %s = %v, want %v", key, c.what, c.got, c.want)
			}
		}
		examples, _ := m["examples"].([]any)
		if len(examples) == 0 {
			t.Errorf("message %s has no example", key)
		}
		for _, ex := range examples {
			b, err := json.Marshal(at(ex, "payload"))
			if err != nil {
				t.Fatal(err)
			}
			if err := schemas.ValidateEvent(b); err != nil {
				t.Errorf("message %s, example %v: %v", key, at(ex, "name"), err)
			} else if at(ex, "payload", "type") != name {
				t.Errorf("message %s, example %v: type %v", key, at(ex, "name"), at(ex, "payload", "type"))
			}
		}
	}
	slices.Sort(names)
	if want := schemas.EventTypes(); !slices.Equal(names, want) {
		t.Errorf("messages %q, want one per event type %q", names, want)
	}
	for name, op := range doc["operations"].(map[string]any) {
		op := op.(map[string]any)
		if op["action"] != "send" {
			t.Errorf("operation %s: action %v, want send", name, op["action"])
		}
		if got := at(resolve(t, doc, op["bindings"]), "amqp", "deliveryMode"); got != 2.0 {
			t.Errorf("operation %s: deliveryMode %v, want 2 (persistent)", name, got)
		}
	}
}

// TestAsyncAPIBindingKeys proves what the document tells downstream
// services about binding keys, including that `db.health.*` matches nothing.
func TestAsyncAPIBindingKeys(t *testing.T) {
	doc := asyncAPIDoc(t)
	all := routingKeys(t, doc)
	documented := map[string]bool{}
	for _, e := range doc["x-binding-keys"].([]any) {
		binding := at(e, "key").(string)
		documented[binding] = true
		want := map[string]bool{}
		for _, m := range at(e, "matches").([]any) {
			for _, k := range kinds(t) {
				want[strings.ReplaceAll(m.(string), "{targetType}", k)] = true
			}
		}
		got := map[string]bool{}
		for key := range all {
			if bus.Match(binding, key) {
				got[key] = true
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("binding %q matches %v, the document says %v", binding, got, want)
		}
		if !strings.Contains(doc["info"].(map[string]any)["description"].(string), "`"+binding+"`") {
			t.Errorf("binding %q is not in info.description", binding)
		}
	}
	for _, b := range []string{"db.health.#", "db.health.state_changed.*", "db.health.*.postgres", "db.health.*"} {
		if !documented[b] {
			t.Errorf("binding %q is not documented in x-binding-keys", b)
		}
	}
}
