package events_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/dbhealth/database-service/events"
)

// FuzzDecode: Decode never panics, fails only with ErrInvalid, and whatever
// it accepts re-encodes to a message that decodes to the same envelope
// (and re-encodes to the same bytes).
func FuzzDecode(f *testing.F) {
	golden, err := filepath.Glob(filepath.Join("testdata", "*.golden.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range golden {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"", "{}", "null", "[]", `{"specversion":"1.0"}`,
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.checked.v1","data":{"target":{"type":"x","name":"y"},"state":"UP"}}`,
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.state_changed.v1","data":{"target":{"type":"x","name":"y"},"to":"UP","seq":1}}`,
		// Go parses a "+24:00" offset but cannot encode it.
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.checked.v1","time":"2026-11-03T10:00:00+24:00","data":{"target":{"type":"x","name":"y"},"state":"UP"}}`,
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.checked.v1","data":{"target":{"type":"x","name":"y"},"state":"UP","checked_at":"2026-11-03T10:00:00-24:00"}}`,
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.state_changed.v1","data":{"target":{"type":"x","name":"y"},"to":"UP","seq":1,"at":"2026-11-03T10:00:00+24:00"}}`,
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.state_changed.v1","data":{"target":{"type":"x","name":"y"},"to":"UP","seq":1,"check":{"checked_at":"2026-11-03T10:00:00+24:00"}}}`,
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.checked.v1","time":"2026-11-03T10:00:00+01:00","data": { "target":{"type":"x","name":"<y>"},"state":"UP","details":{"a":[1,2.5e3,null]}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		e1, err := events.Decode(body)
		if err != nil {
			if !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("Decode error %v does not wrap ErrInvalid", err)
			}
			return
		}
		wire, err := events.Encode(e1)
		if err != nil {
			t.Fatalf("Decode accepted %q but Encode fails: %v", body, err)
		}
		e2, err := events.Decode(wire)
		if err != nil {
			t.Fatalf("re-encoded %q does not decode: %v", wire, err)
		}
		if e1.SpecVersion != e2.SpecVersion || e1.ID != e2.ID || e1.Source != e2.Source ||
			e1.Type != e2.Type || e1.Subject != e2.Subject || e1.DataContentType != e2.DataContentType ||
			e1.DataSchema != e2.DataSchema || !e1.Time.Equal(e2.Time) ||
			e1.Time.Format(timeLayout) != e2.Time.Format(timeLayout) {
			t.Fatalf("envelope changed in a round trip:\n%+v\n%+v", e1, e2)
		}
		if d1, d2 := payload(t, e1), payload(t, e2); !bytes.Equal(d1, d2) {
			t.Fatalf("data changed in a round trip:\n%s\n%s", d1, d2)
		}
		again, err := events.Encode(e2)
		if err != nil || !bytes.Equal(again, wire) {
			t.Fatalf("encoding is not stable: %v\n%s\n%s", err, wire, again)
		}
	})
}

const timeLayout = "2006-01-02T15:04:05.999999999Z07:00"

// payload is the typed data of e, encoded again.
func payload(t *testing.T, e events.Envelope) []byte {
	t.Helper()
	var v any
	var err error
	switch e.Type {
	case events.TypeHealthChecked:
		v, err = e.HealthChecked()
	case events.TypeStateChanged:
		v, err = e.StateChanged()
	}
	if err != nil {
		t.Fatalf("accepted envelope has bad data: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzDecodeChecked: the one-pass decoder of the check projection accepts
// exactly what Decode and Envelope.HealthChecked accept of
// db.health.checked.v1 events, and decodes the same data.
func FuzzDecodeChecked(f *testing.F) {
	for _, s := range []string{
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.checked.v1","data":{"target":{"type":"x","name":"y"},"state":"UP"}}`,
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.checked.v1","data":{"target":{"type":"x","name":"y"},"state":"UP","details":[1]}}`,
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.checked.v1","data":{"target":{"type":"x","name":"y"},"state":"UP","details":{"v":"7"},"slot":5}}`,
		`{"specversion":"1.0","id":"a","source":"s","subject":"x/y","type":"db.health.state_changed.v1","data":{"target":{"type":"x","name":"y"},"to":"UP","seq":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h1, err1 := events.DecodeChecked(body)
		var h2 events.HealthChecked
		e, err2 := events.Decode(body)
		if err2 == nil {
			h2, err2 = e.HealthChecked()
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("DecodeChecked: %v; Decode: %v", err1, err2)
		}
		if err1 != nil {
			if !errors.Is(err1, events.ErrInvalid) {
				t.Fatalf("error %v does not wrap ErrInvalid", err1)
			}
			return
		}
		b1, _ := json.Marshal(h1)
		b2, _ := json.Marshal(h2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("decoded differently:\n%s\n%s", b1, b2)
		}
	})
}
