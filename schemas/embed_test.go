package schemas_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/schemas"
)

func TestEventTypesMatchEvents(t *testing.T) {
	want := slices.Sorted(slices.Values(events.Types))
	if got := schemas.EventTypes(); !slices.Equal(got, want) {
		t.Fatalf("EventTypes() = %q, events.Types = %q: every event type needs exactly one schema", got, want)
	}
}

func TestEventSchemaUnknownType(t *testing.T) {
	for _, typ := range []string{"", "db.health.checked.v2", "db.health", "../asyncapi", "events/db.health.checked.v1", "db.health.checked.v1.json"} {
		if b, err := schemas.EventSchema(typ); !errors.Is(err, schemas.ErrUnknownType) {
			t.Errorf("EventSchema(%q) = %d bytes, %v; want ErrUnknownType", typ, len(b), err)
		}
	}
}

// loadSchema returns the schema of typ as a generic JSON document.
func loadSchema(t *testing.T, typ string) map[string]any {
	t.Helper()
	b, err := schemas.EventSchema(typ)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", typ, err)
	}
	return m
}

// at walks a generic JSON document along keys.
func at(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestEventSchemaIdentity(t *testing.T) {
	for _, typ := range events.Types {
		t.Run(typ, func(t *testing.T) {
			s := loadSchema(t, typ)
			checks := []struct {
				what      string
				got, want any
			}{
				{"$schema", s["$schema"], "https://json-schema.org/draft/2020-12/schema"},
				{"$id", s["$id"], events.SchemaURI(typ)},
				{"title", s["title"], typ},
				{"type const", at(s, "properties", "type", "const"), typ},
				{"dataschema const", at(s, "properties", "dataschema", "const"), events.SchemaURI(typ)},
				{"specversion const", at(s, "properties", "specversion", "const"), events.SpecVersion},
				{"datacontenttype const", at(s, "properties", "datacontenttype", "const"), events.DataContentType},
				{"additionalProperties", s["additionalProperties"], false},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
				}
			}
		})
	}
}

// The schemas are self-contained (a consumer can use either alone), so the
// definitions they share are copies: they must not drift apart.
func TestSharedDefinitionsIdentical(t *testing.T) {
	checked := loadSchema(t, events.TypeHealthChecked)
	changed := loadSchema(t, events.TypeStateChanged)
	for _, def := range []string{"targetType", "target", "state", "errorKind", "healthChecked"} {
		a, b := at(checked, "$defs", def), at(changed, "$defs", def)
		if a == nil || !reflect.DeepEqual(a, b) {
			t.Errorf("$defs/%s differs between the schemas (or is missing)", def)
		}
	}
	if got := at(changed, "$defs", "stateChanged", "properties", "check", "$ref"); got != "#/$defs/healthChecked" {
		t.Errorf("state_changed data.check refers to %v, want the healthChecked definition", got)
	}
}

func TestNewValidatorCompilesEverySchema(t *testing.T) {
	if _, err := schemas.NewValidator(); err != nil {
		t.Fatal(err)
	}
}
