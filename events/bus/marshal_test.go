package bus

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/events"
)

// A delivery with the headers the broker adds on redelivery and dead
// lettering (x-delivery-count an int64, x-death an array of tables), which
// watermill-amqp's DefaultMarshaler rejects as is, goes through it with
// PreprocessDelivery and is handled, its count in the Delivery.
func TestMarshalerNonStringHeaders(t *testing.T) {
	e := checked(t, "redis", "cache", 1)
	body, err := events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	died := time.Date(2026, 11, 3, 10, 4, 5, 0, time.UTC)
	headers := amqp.Table{
		"x-delivery-count": int64(3),
		"x-death": []any{amqp.Table{
			"count": int64(2), "reason": "rejected", "queue": "svc.proj", "exchange": "",
			"time": died, "routing-keys": []any{"svc.proj"},
		}},
		"x-first-death-reason":            "rejected",
		"x-void":                          nil,
		MetaSubject:                       e.Subject,
		wamqp.DefaultMessageUUIDHeaderKey: e.ID,
	}
	d := amqp.Delivery{MessageId: e.ID, RoutingKey: e.RoutingKey(), Type: e.Type, Body: body, Headers: headers}

	if _, err := (wamqp.DefaultMarshaler{}).Unmarshal(d); err == nil {
		t.Fatal("watermill-amqp's marshaler without PreprocessDelivery accepted non-string headers")
	}
	m := newMarshaler()
	preprocessed := 0
	pre := m.PreprocessDelivery
	if pre == nil {
		t.Fatal("the marshaler has no PreprocessDelivery")
	}
	m.PreprocessDelivery = func(d amqp.Delivery) amqp.Delivery { preprocessed++; return pre(d) }
	msg := toMessage(m, d)
	if preprocessed != 1 {
		t.Fatalf("PreprocessDelivery ran %d times, want 1", preprocessed)
	}
	if _, ok := headers["x-delivery-count"].(int64); !ok || len(headers) != 6 {
		t.Errorf("the delivery's own headers were changed: %v", headers)
	}
	want := map[string]string{
		"x-delivery-count":     "3",
		"x-first-death-reason": "rejected",
		MetaSubject:            e.Subject,
		MetaRoutingKey:         e.RoutingKey(),
		MetaType:               e.Type,
	}
	for k, v := range want {
		if got := msg.Metadata.Get(k); got != v {
			t.Errorf("metadata %s = %q, want %q", k, got, v)
		}
	}
	for _, k := range []string{"x-void", wamqp.DefaultMessageUUIDHeaderKey, metaUndecodable} {
		if _, has := msg.Metadata[k]; has {
			t.Errorf("metadata has %s: %q", k, msg.Metadata[k])
		}
	}
	var death []map[string]any
	if err := json.Unmarshal([]byte(msg.Metadata.Get("x-death")), &death); err != nil {
		t.Fatalf("x-death metadata %q is not JSON: %v", msg.Metadata.Get("x-death"), err)
	}
	if len(death) != 1 || death[0]["reason"] != "rejected" || death[0]["count"] != 2.0 ||
		death[0]["time"] != died.Format(time.RFC3339) {
		t.Errorf("x-death metadata = %v", death)
	}

	rec := newRecorder()
	if err := adapt("proj", rec.handle)(msg); err != nil {
		t.Fatalf("handler: %v", err)
	}
	del := rec.dels[e.ID]
	if rec.count(e.ID) != 1 || del.Group != "proj" || del.Count != 3 || !del.Redelivered ||
		del.RoutingKey != e.RoutingKey() || del.Metadata["x-first-death-reason"] != "rejected" {
		t.Errorf("handled %d times, delivery %+v", rec.count(e.ID), del)
	}
}

// A delivery whose watermill UUID header is not a string, which the
// marshaler rejects before PreprocessDelivery runs, is poisoned as invalid
// and never reaches the handler.
func TestMarshalerRejectedDeliveryIsInvalid(t *testing.T) {
	e := checked(t, "redis", "cache", 1)
	body, _ := events.Encode(e)
	msg := toMessage(newMarshaler(), amqp.Delivery{
		MessageId: e.ID, RoutingKey: e.RoutingKey(), Body: body,
		Headers: amqp.Table{wamqp.DefaultMessageUUIDHeaderKey: int64(7)},
	})
	if msg.UUID != e.ID || msg.Metadata.Get(MetaRoutingKey) != e.RoutingKey() {
		t.Errorf("message %q metadata %v", msg.UUID, msg.Metadata)
	}
	rec := newRecorder()
	err := adapt("proj", rec.handle)(msg)
	if !errors.Is(err, events.ErrInvalid) || !strings.Contains(err.Error(), "not a string") {
		t.Fatalf("handler error = %v, want events.ErrInvalid naming the header", err)
	}
	if rec.total.Load() != 0 {
		t.Error("the handler ran")
	}
	if _, has := msg.Metadata[metaUndecodable]; has {
		t.Error("the mark stays in the metadata published to the poison queue")
	}
}

// What Publish sends: every property consumers and the round trip read,
// and watermill's UUID header, so watermill-amqp clients see the event id.
func TestToOutgoing(t *testing.T) {
	m := newMarshaler()
	e := changed(t, "postgres", "main", 4)
	o, err := toOutgoing(m, "db.health", "svc", e)
	if err != nil {
		t.Fatal(err)
	}
	p := o.msg
	if o.exchange != "db.health" || o.key != e.RoutingKey() || o.subject != e.Subject ||
		p.MessageId != e.ID || p.Type != e.Type || p.ContentType != ContentType || p.AppId != "svc" ||
		p.DeliveryMode != amqp.Persistent || !p.Timestamp.Equal(e.Time) || p.Timestamp.Location() != time.UTC {
		t.Errorf("outgoing %+v, publishing %+v", o, p)
	}
	if len(p.Headers) != 2 || p.Headers[MetaSubject] != e.Subject || p.Headers[wamqp.DefaultMessageUUIDHeaderKey] != e.ID {
		t.Errorf("headers %v", p.Headers)
	}
	if back, err := events.Decode(p.Body); err != nil || back.ID != e.ID {
		t.Errorf("body does not decode: %v", err)
	}

	// A watermill-amqp client reads the id from the UUID header.
	got, err := m.Unmarshal(amqp.Delivery{Headers: p.Headers, Body: p.Body})
	if err != nil || got.UUID != e.ID || got.Metadata.Get(MetaSubject) != e.Subject {
		t.Errorf("watermill-amqp reads %v, %v", got, err)
	}
	// The AMQP message_id wins over the header (other clients set only it).
	msg := toMessage(m, amqp.Delivery{MessageId: "other:1", Headers: p.Headers, Body: p.Body})
	if msg.UUID != "other:1" {
		t.Errorf("message id %q, want the delivery's message_id", msg.UUID)
	}

	for _, bad := range []events.Envelope{{}, {ID: "x", Type: e.Type}} {
		if _, err := toOutgoing(m, "db.health", "svc", bad); !errors.Is(err, events.ErrInvalid) {
			t.Errorf("toOutgoing(%+v) = %v, want events.ErrInvalid", bad, err)
		}
	}
}

// A poisoned message goes back out through the marshaler with its
// metadata as headers, long values cut to maxHeaderLen.
func TestToPoisonPublishing(t *testing.T) {
	msg := message.NewMessage("redis/x:1", []byte("{not json"))
	msg.Metadata.Set(MetaType, "db.health.bogus.v1")
	msg.Metadata.Set(MetaRoutingKey, "db.health.bogus.redis")
	msg.Metadata.Set(middleware.ReasonForPoisonedKey, strings.Repeat("x", 3*maxHeaderLen))
	p, err := toPoisonPublishing(newMarshaler(), msg)
	if err != nil {
		t.Fatal(err)
	}
	if p.MessageId != msg.UUID || p.Type != "db.health.bogus.v1" || p.DeliveryMode != amqp.Persistent ||
		p.Timestamp.IsZero() || string(p.Body) != "{not json" {
		t.Errorf("publishing %+v", p)
	}
	if r, _ := p.Headers[middleware.ReasonForPoisonedKey].(string); len(r) != maxHeaderLen {
		t.Errorf("reason header of %d bytes, want %d", len(r), maxHeaderLen)
	}
	if p.Headers[MetaRoutingKey] != "db.health.bogus.redis" || p.Headers[wamqp.DefaultMessageUUIDHeaderKey] != msg.UUID {
		t.Errorf("headers %v", p.Headers)
	}
	if len(msg.Metadata.Get(middleware.ReasonForPoisonedKey)) != 3*maxHeaderLen {
		t.Error("the message's own metadata was cut")
	}
}

// Every AMQP header type becomes a string the marshaler accepts.
func TestHeaderString(t *testing.T) {
	ts := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
	for _, tc := range []struct {
		in   any
		want string
		ok   bool
	}{
		{"s", "s", true},
		{[]byte("b"), "b", true},
		{true, "true", true},
		{int8(-8), "-8", true},
		{int16(16), "16", true},
		{int32(32), "32", true},
		{int64(64), "64", true},
		{uint8(8), "8", true},
		{uint16(16), "16", true},
		{uint32(32), "32", true},
		{float32(1.5), "1.5", true},
		{2.25, "2.25", true},
		{ts, "2026-01-02T02:04:05.000000006Z", true},
		{amqp.Decimal{Scale: 2, Value: 314}, "314e-2", true},
		{amqp.Table{"a": int64(1)}, `{"a":1}`, true},
		{[]any{"k", int32(2)}, `["k",2]`, true},
		{nil, "", false},
	} {
		got, ok := headerString(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("headerString(%#v) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// Deliveries whose headers are all strings (every first delivery of this
// service's events) are passed on without copying their headers.
func TestStringHeadersKeepsStringTables(t *testing.T) {
	h := amqp.Table{"a": "1"}
	d := stringHeaders(amqp.Delivery{Headers: h, Body: []byte("b")})
	h["b"] = "2" // same map
	if d.Headers["b"] != "2" {
		t.Error("string headers were copied")
	}
	if d := stringHeaders(amqp.Delivery{}); d.Headers != nil {
		t.Errorf("nil headers became %v", d.Headers)
	}
}
