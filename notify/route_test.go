package notify

import (
	"strings"
	"testing"

	"github.com/dbhealth/database-service/events"
)

func TestRouteMatches(t *testing.T) {
	no := false
	yes := true
	n := func(typ, name string, sev events.Severity, st State) Notification {
		return Notification{Target: events.TargetRef{Type: typ, Name: name}, Severity: sev, State: st}
	}
	cases := []struct {
		name  string
		route Route
		n     Notification
		want  bool
	}{
		{"empty matches all", Route{}, n("redis", "cache", events.SeverityWarning, StateFiring), true},
		{"empty sends resolved", Route{}, n("redis", "cache", events.SeverityWarning, StateResolved), true},
		{"type in", Route{Types: []string{"postgres", "redis"}}, n("redis", "x", "critical", StateFiring), true},
		{"type out", Route{Types: []string{"postgres"}}, n("redis", "x", "critical", StateFiring), false},
		{"glob", Route{Names: []string{"prod-*"}}, n("redis", "prod-cache", "critical", StateFiring), true},
		{"glob out", Route{Names: []string{"prod-*"}}, n("redis", "staging-cache", "critical", StateFiring), false},
		{"second glob", Route{Names: []string{"a", "orders-?"}}, n("redis", "orders-1", "critical", StateFiring), true},
		{"severity", Route{Severities: []string{"critical"}}, n("redis", "x", "warning", StateFiring), false},
		{"severity in", Route{Severities: []string{"critical"}}, n("redis", "x", "critical", StateFiring), true},
		{"no resolved", Route{SendResolved: &no}, n("redis", "x", "critical", StateResolved), false},
		{"no resolved firing", Route{SendResolved: &no}, n("redis", "x", "critical", StateFiring), true},
		{"resolved explicit", Route{SendResolved: &yes}, n("redis", "x", "critical", StateResolved), true},
		{"all lists", Route{Types: []string{"postgres"}, Names: []string{"*"}, Severities: []string{"warning"}}, n("postgres", "x", "warning", StateFiring), true},
	}
	for _, c := range cases {
		if got := c.route.Matches(c.n); got != c.want {
			t.Errorf("%s: Matches = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestRouteValidate(t *testing.T) {
	if err := (Route{Types: []string{"postgres"}, Names: []string{"prod-*"}, Severities: []string{"critical"}}).Validate(); err != nil {
		t.Fatalf("valid route: %v", err)
	}
	err := Route{Types: []string{"mysql"}, Names: []string{"[x"}, Severities: []string{"info"}}.Validate()
	if err == nil {
		t.Fatal("invalid route accepted")
	}
	for _, want := range []string{"types[0]", "mysql", "names[0]", "severities[0]", "info"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}
