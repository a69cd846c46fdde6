package mute

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

func TestWindowActiveOneOff(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, w := range []Window{
		{StartsAt: t0, Duration: time.Hour},
		{StartsAt: t0, EndsAt: t0.Add(time.Hour)},
		{StartsAt: t0, EndsAt: t0.Add(time.Hour), Duration: time.Minute}, // ends_at wins
	} {
		for at, want := range map[time.Duration]bool{-time.Second: false, 0: true, 30 * time.Minute: true, time.Hour - 1: true, time.Hour: false} {
			if got := w.ActiveAt(t0.Add(at)); got != want {
				t.Errorf("%+v at +%v: %v, want %v", w, at, got, want)
			}
		}
	}
	if (Window{StartsAt: t0}).ActiveAt(t0) {
		t.Error("invalid window: want never active")
	}
}

func TestWindowActiveRecurringAcrossDST(t *testing.T) {
	w := Window{Cron: "30 2 * * *", Duration: time.Hour, TimeZone: "Europe/Berlin"}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		at   string
		want bool
	}{
		// Winter (CET, UTC+1): 02:30-03:30 Berlin is 01:30-02:30 UTC.
		{"2026-01-15T01:29:59Z", false},
		{"2026-01-15T01:30:00Z", true},
		{"2026-01-15T02:29:59Z", true},
		{"2026-01-15T02:30:00Z", false},
		{"2026-01-15T00:30:00Z", false},
		// Summer (CEST, UTC+2): 00:30-01:30 UTC.
		{"2026-07-15T00:29:59Z", false},
		{"2026-07-15T00:30:00Z", true},
		{"2026-07-15T01:29:59Z", true},
		{"2026-07-15T01:30:00Z", false},
		// The night before the spring change is still CET.
		{"2026-03-28T01:45:00Z", true},
		// 2026-03-29: 02:30 does not exist in Berlin; the window skips
		// that day (robfig/cron's behaviour).
		{"2026-03-29T00:45:00Z", false},
		{"2026-03-29T01:45:00Z", false},
		{"2026-03-30T00:45:00Z", true},
		// 2026-10-25: 02:30 happens twice (CEST then CET); the window
		// opens at both, 00:30-02:30 UTC.
		{"2026-10-25T00:45:00Z", true},
		{"2026-10-25T01:45:00Z", true},
		{"2026-10-25T02:30:00Z", false},
		{"2026-10-26T01:45:00Z", true},
		{"2026-10-26T00:45:00Z", false},
	}
	for _, tt := range tests {
		if got := w.ActiveAt(utc(tt.at)); got != tt.want {
			t.Errorf("ActiveAt(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	// The answer does not depend on the location now is given in.
	ny, _ := time.LoadLocation("America/New_York")
	if !w.ActiveAt(utc("2026-01-15T01:30:00Z").In(ny)) {
		t.Error("now in another zone: want active")
	}
}

func TestWindowRecurringLongerThanPeriod(t *testing.T) {
	// Hourly firings, each open 90 minutes: always open.
	w := Window{Cron: "0 * * * *", Duration: 90 * time.Minute}
	for m := range 180 {
		if at := time.Date(2026, 12, 1, 0, m, 0, 0, time.UTC); !w.ActiveAt(at) {
			t.Fatalf("closed at %v", at)
		}
	}
}

func TestWindowRecurringBounded(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	w := Window{Cron: "0 3 * * *", Duration: time.Hour, StartsAt: from, EndsAt: from.AddDate(0, 0, 2)}
	for day, want := range map[int]bool{-1: false, 0: true, 1: true, 2: false} {
		if got := w.ActiveAt(from.AddDate(0, 0, day).Add(3*time.Hour + time.Minute)); got != want {
			t.Errorf("day %d: %v, want %v", day, got, want)
		}
	}
}

func TestWindowJSON(t *testing.T) {
	w := Window{ID: "w1", Name: "backup", Cron: "30 2 * * *", Duration: 90 * time.Minute, TimeZone: "Europe/Berlin", Source: SourceAPI,
		Matchers: []Matcher{{Name: "type", Value: "postgres", IsEqual: true}}}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"duration":"1h30m0s"`, `"time_zone":"Europe/Berlin"`, `"source":"api"`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
	if strings.Contains(s, "starts_at") || strings.Contains(s, "ends_at") {
		t.Errorf("%s: zero times should be omitted", s)
	}
	var back Window
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Duration != w.Duration || back.Name != w.Name || len(back.Matchers) != 1 || back.Matchers[0] != w.Matchers[0] {
		t.Fatalf("round trip: %+v", back)
	}
	err = json.Unmarshal([]byte(`{"name":"x","cron":"@daily","duration":"soon"}`), &back)
	wantField(t, err, "duration")
	if err := json.Unmarshal([]byte(`{"name":"x","starts_at":"2026-12-01T10:00:00Z","duration":"1h","matchers":[{"name":"name","value":"pg"}]}`), &back); err != nil {
		t.Fatal(err)
	}
	if back.Duration != time.Hour || !back.Matchers[0].IsEqual || back.Validate() != nil {
		t.Fatalf("%+v", back)
	}
}

func TestParseWindowsYAML(t *testing.T) {
	doc := `
maintenance:
  - name: nightly-backup
    matchers:
      - {name: type, value: postgres}
      - {name: name, value: "pg-.*", is_regex: true}
    cron: "30 2 * * *"
    duration: 1h
    time_zone: Europe/Berlin
  - name: migration
    starts_at: 2026-12-24T20:00:00Z
    ends_at: 2026-12-24T23:00:00Z
    comment: everything
`
	var f struct {
		Maintenance yaml.Node `yaml:"maintenance"`
	}
	if err := yaml.Unmarshal([]byte(doc), &f); err != nil {
		t.Fatal(err)
	}
	ws, err := ParseWindowsYAML(&f.Maintenance)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 2 {
		t.Fatalf("%d windows", len(ws))
	}
	b := ws[0]
	if b.ID != "config:nightly-backup" || b.Source != SourceConfig || b.Duration != time.Hour || b.TimeZone != "Europe/Berlin" ||
		len(b.Matchers) != 2 || !b.Matchers[1].IsRegex || !b.Matchers[1].IsEqual {
		t.Fatalf("%+v", b)
	}
	if !b.ActiveAt(time.Date(2026, 1, 15, 1, 45, 0, 0, time.UTC)) {
		t.Error("backup window not open")
	}
	m := ws[1]
	if !m.ActiveAt(time.Date(2026, 12, 24, 21, 0, 0, 0, time.UTC)) || len(m.Matchers) != 0 || m.Comment != "everything" {
		t.Fatalf("%+v", m)
	}
	out, err := yaml.Marshal(b)
	if err != nil || !strings.Contains(string(out), "duration: 1h0m0s") || strings.Contains(string(out), "starts_at") {
		t.Fatalf("marshal: %s %v", out, err)
	}
}

func TestParseWindowsYAMLErrors(t *testing.T) {
	tests := []struct{ doc, field, msg string }{
		{"- {name: a, cron: '30 2 * * *', duration: 1h, time_zone: Nowhere/Town}", "time_zone", "maintenance[0] (a)"},
		{"- {name: a, cron: 'every night', duration: 1h}", "cron", "maintenance[0] (a)"},
		{"- {name: a, cron: '30 2 * * *'}", "duration", "maintenance[0] (a)"},
		{"- {name: a, cron: '30 2 * * *', duration: 1h}\n- {name: b, duration: 1h}", "starts_at", "maintenance[1] (b)"},
		{"- {name: a, cron: '30 2 * * *', duration: 1h, matchers: [{name: host, value: x}]}", "matchers[0].name", "maintenance[0]"},
		{"- {name: a, cron: '30 2 * * *', duration: 1h}\n- {name: a, cron: '30 3 * * *', duration: 1h}", "name", "duplicate"},
		{"- {cron: '30 2 * * *', duration: 1h}", "name", "maintenance[0]"},
		{"- {name: a, cron: '30 2 * * *', duration: forever}", "duration", "maintenance[0]"},
		{"- {name: a, crom: '30 2 * * *', duration: 1h}", "", `unknown field "crom"`},
		{"{name: a}", "", "want a list"},
	}
	for _, tt := range tests {
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(tt.doc), &n); err != nil {
			t.Fatal(err)
		}
		_, err := ParseWindowsYAML(&n)
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: error %v, want one containing %q", tt.doc, err, tt.msg)
			continue
		}
		if tt.field != "" {
			wantField(t, err, tt.field)
		}
	}
	if ws, err := ParseWindowsYAML(nil); err != nil || ws != nil {
		t.Fatalf("nil node: %v %v", ws, err)
	}
}
