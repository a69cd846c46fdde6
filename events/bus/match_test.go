package bus

import "testing"

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, key string
		want         bool
	}{
		{"db.health.#", "db.health.checked.postgres", true},
		{"db.health.#", "db.health.state_changed.redis", true},
		{"db.health.#", "db.health", true},
		{"db.health.#", "db.healthy.checked.redis", false},
		{"db.health.state_changed.*", "db.health.state_changed.redis", true},
		{"db.health.state_changed.*", "db.health.checked.redis", false},
		{"db.health.state_changed.*", "db.health.state_changed", false},
		{"db.health.state_changed.*", "db.health.state_changed.redis.extra", false},
		{"db.health.*.postgres", "db.health.checked.postgres", true},
		{"db.health.*.postgres", "db.health.state_changed.postgres", true},
		{"db.health.*.postgres", "db.health.checked.redis", false},
		{"db.health.*", "db.health.checked.postgres", false},
		{"db.health.*", "db.health.state_changed.redis", false},
		{"db.health.*", "db.health.checked", true},
		{"#", "anything.at.all", true},
		{"#", "", true},
		{"*", "", false},
		{"*", "one", true},
		{"*", "one.two", false},
		{"#.postgres", "db.health.checked.postgres", true},
		{"#.postgres", "postgres", true},
		{"#.postgres", "db.health.checked.redis", false},
		{"db.#.postgres", "db.postgres", true},
		{"db.#.postgres", "db.health.checked.postgres", true},
		{"db.#.#.postgres", "db.health.checked.postgres", true},
		{"db.#.*", "db", false},
		{"db.#.*", "db.x", true},
		{"#.*.#", "a", true},
		{"#.*.#", "", false},
		{"a.b", "a.b", true},
		{"a.b", "a.c", false},
		{"a.b", "a.b.c", false},
		{"", "", true},
		{"", "a", false},
		{"a.*", "a", false},
		{"*.b", "a.c", false},
		{"a.#.c", "a.c", true},
		{"a.#.c", "a.b.b.c", true},
		{"a.#.c", "a.b.d", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.key); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.key, got, tt.want)
		}
	}
}

func TestCheckBinding(t *testing.T) {
	for _, ok := range []string{"db.health.#", "#", "*", "db.health.*.postgres"} {
		if err := checkBinding(ok); err != nil {
			t.Errorf("checkBinding(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "db..health", ".db", "db."} {
		if err := checkBinding(bad); err == nil {
			t.Errorf("checkBinding(%q) = nil, want an error", bad)
		}
	}
}
