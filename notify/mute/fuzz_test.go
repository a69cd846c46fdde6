package mute

import (
	"encoding/json"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// FuzzWindowDecoders feeds the JSON and YAML decoders arbitrary input: no
// panic, and a window that validates can be evaluated.
func FuzzWindowDecoders(f *testing.F) {
	f.Add(`{"name":"a","cron":"30 2 * * *","duration":"1h","time_zone":"Europe/Berlin","matchers":[{"name":"name","value":"pg-.*","isRegex":true}]}`)
	f.Add(`{"name":"b","starts_at":"2026-12-01T10:00:00Z","duration":"90m"}`)
	f.Add("- {name: a, cron: '@daily', duration: 1h, matchers: [{name: type, value: postgres}]}")
	f.Add("- {name: b, starts_at: 2026-12-01T10:00:00Z, ends_at: 2026-12-01T11:00:00Z}")
	now := time.Date(2026, 12, 1, 10, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, in string) {
		var ws []Window
		var w Window
		if json.Unmarshal([]byte(in), &w) == nil {
			ws = append(ws, w)
		}
		var n yaml.Node
		if yaml.Unmarshal([]byte(in), &n) == nil {
			got, err := ParseWindowsYAML(&n)
			if err == nil {
				ws = append(ws, got...)
			}
		}
		for _, w := range ws {
			if w.Validate() == nil {
				_ = w.ActiveAt(now)
				b, err := json.Marshal(w)
				if err != nil {
					t.Fatal(err)
				}
				var back Window
				if err := json.Unmarshal(b, &back); err != nil || back.Validate() != nil {
					t.Fatalf("%s does not round-trip: %v", b, err)
				}
			}
		}
	})
}
