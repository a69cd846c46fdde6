package mute

import (
	"encoding/json"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestMatcherMatches(t *testing.T) {
	pg := Subject{Type: "postgres", Name: "pg-main", Severity: "critical", AlertID: "a1"}
	tests := []struct {
		name string
		m    Matcher
		s    Subject
		want bool
	}{
		{"equal", Matcher{Name: "type", Value: "postgres", IsEqual: true}, pg, true},
		{"equal other", Matcher{Name: "type", Value: "mysql", IsEqual: true}, pg, false},
		{"equal is exact", Matcher{Name: "name", Value: "pg", IsEqual: true}, pg, false},
		{"not equal", Matcher{Name: "severity", Value: "warning"}, pg, true},
		{"not equal same", Matcher{Name: "severity", Value: "critical"}, pg, false},
		{"regex", Matcher{Name: "name", Value: "pg-.*", IsRegex: true, IsEqual: true}, pg, true},
		{"regex anchored at start", Matcher{Name: "name", Value: "main", IsRegex: true, IsEqual: true}, pg, false},
		{"regex anchored at end", Matcher{Name: "name", Value: "pg", IsRegex: true, IsEqual: true}, pg, false},
		{"regex alternation anchored", Matcher{Name: "name", Value: "pg-main|x", IsRegex: true, IsEqual: true}, Subject{Name: "pg-mainx"}, false},
		{"regex alternation", Matcher{Name: "severity", Value: "warning|critical", IsRegex: true, IsEqual: true}, pg, true},
		{"negative regex", Matcher{Name: "name", Value: "pg-.*", IsRegex: true}, pg, false},
		{"negative regex other", Matcher{Name: "name", Value: "mysql-.*", IsRegex: true}, pg, true},
		{"bad regex matches nothing", Matcher{Name: "name", Value: "(", IsRegex: true, IsEqual: true}, pg, false},
		{"unknown name matches nothing", Matcher{Name: "alertname", Value: "x", IsEqual: true}, pg, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Matches(tt.s); got != tt.want {
				t.Fatalf("%+v.Matches(%+v) = %v, want %v", tt.m, tt.s, got, tt.want)
			}
		})
	}
}

func TestMatchAll(t *testing.T) {
	s := Subject{Type: "redis", Name: "cache", Severity: "warning"}
	ms := []Matcher{{Name: "type", Value: "redis", IsEqual: true}, {Name: "severity", Value: "critical"}}
	if !MatchAll(ms, s) {
		t.Fatal("want a match")
	}
	if MatchAll(append(ms, Matcher{Name: "name", Value: "db", IsEqual: true}), s) {
		t.Fatal("one matcher fails: want no match")
	}
	if !MatchAll(nil, s) {
		t.Fatal("no matchers: want a match")
	}
}

func TestMatcherJSONDefaultsIsEqual(t *testing.T) {
	tests := []struct {
		in   string
		want Matcher
	}{
		{`{"name":"type","value":"postgres"}`, Matcher{Name: "type", Value: "postgres", IsEqual: true}},
		{`{"name":"type","value":"postgres","isEqual":false}`, Matcher{Name: "type", Value: "postgres"}},
		{`{"name":"name","value":"a.*","isRegex":true,"isEqual":true}`, Matcher{Name: "name", Value: "a.*", IsRegex: true, IsEqual: true}},
	}
	for _, tt := range tests {
		var m Matcher
		if err := json.Unmarshal([]byte(tt.in), &m); err != nil {
			t.Fatal(err)
		}
		if m != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.in, m, tt.want)
		}
		var ms []Matcher
		if err := json.Unmarshal([]byte("["+tt.in+"]"), &ms); err != nil || len(ms) != 1 || ms[0] != tt.want {
			t.Errorf("%s in a list: got %+v (%v)", tt.in, ms, err)
		}
	}
}

func TestMatcherYAML(t *testing.T) {
	tests := []struct {
		in   string
		want Matcher
	}{
		{"{name: type, value: postgres}", Matcher{Name: "type", Value: "postgres", IsEqual: true}},
		{"{name: name, value: 'pg-.*', is_regex: true, is_equal: false}", Matcher{Name: "name", Value: "pg-.*", IsRegex: true}},
		{"{name: name, value: 'pg-.*', isRegex: true}", Matcher{Name: "name", Value: "pg-.*", IsRegex: true, IsEqual: true}},
	}
	for _, tt := range tests {
		var m Matcher
		if err := yaml.Unmarshal([]byte(tt.in), &m); err != nil {
			t.Fatal(err)
		}
		if m != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.in, m, tt.want)
		}
	}
	var m Matcher
	if err := yaml.Unmarshal([]byte("{name: type, valeu: x}"), &m); err == nil {
		t.Fatal("unknown key: want an error")
	}
}
