package notify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed (a wire format; if intended, run go test -update):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

// TestWireFormats pins the webhook payload and the Alertmanager alert.
func TestWireFormats(t *testing.T) {
	indent := func(v any) []byte {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		return append(b, '\n')
	}
	golden(t, "webhook_firing.json", indent(sample()))
	golden(t, "webhook_resolved.json", indent(resolvedSample()))
	at := sample().StartedAt.Add(30 * time.Second)
	golden(t, "alertmanager_firing.json", indent([]AlertmanagerAlert{AlertFor(sample(), at, time.Minute, DefaultService)}))
	golden(t, "alertmanager_resolved.json", indent([]AlertmanagerAlert{AlertFor(resolvedSample(), at.Add(time.Hour), time.Minute, DefaultService)}))
}

func TestNewID(t *testing.T) {
	a := NewID("ops", "postgres/orders:1:3", StateFiring)
	if a != NewID("ops", "postgres/orders:1:3", StateFiring) {
		t.Error("NewID is not deterministic")
	}
	if len(a) != len("ntf_")+32 || a[:4] != "ntf_" {
		t.Errorf("NewID = %q", a)
	}
	for _, other := range []string{
		NewID("ops", "postgres/orders:1:3", StateResolved),
		NewID("ops2", "postgres/orders:1:3", StateFiring),
		NewID("ops", "postgres/orders:1:4", StateFiring),
		NewID("op", "spostgres/orders:1:3", StateFiring),
	} {
		if other == a {
			t.Errorf("NewID collides: %q", other)
		}
	}
	if !StateFiring.Valid() || !StateResolved.Valid() || State("pending").Valid() {
		t.Error("State.Valid")
	}
}
