package events_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/dbhealth/database-service/events"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// TestGolden pins the wire format of every fixture: the golden file is the
// encoded message, indented (the wire form is the same bytes compacted).
// Run `go test ./events -run TestGolden -update` after a deliberate change.
func TestGolden(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			wire := mustEncode(t, f.env)
			var indented bytes.Buffer
			if err := json.Indent(&indented, wire, "", "  "); err != nil {
				t.Fatal(err)
			}
			indented.WriteByte('\n')
			file := filepath.Join("testdata", f.name+".golden.json")
			if *update {
				if err := os.WriteFile(file, indented.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			golden, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(indented.Bytes(), golden) {
				t.Errorf("wire format changed (run with -update if deliberate)\ngot:\n%s\nwant:\n%s", indented.Bytes(), golden)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, golden); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(compact.Bytes(), wire) {
				t.Errorf("wire form differs from the compacted golden file:\n%s\n%s", wire, compact.Bytes())
			}

			// A consumer reading the golden file gets the event back.
			e, err := events.Decode(compact.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			var data any
			switch f.data.(type) {
			case events.HealthChecked:
				data, err = e.HealthChecked()
			case events.StateChanged:
				data, err = e.StateChanged()
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(data, f.data) {
				t.Errorf("decoded data %+v, want %+v", data, f.data)
			}
			e.Data, f.env.Data = nil, nil
			if !reflect.DeepEqual(e, f.env) {
				t.Errorf("decoded envelope %+v, want %+v", e, f.env)
			}
		})
	}
}
