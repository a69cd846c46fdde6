package bus

import (
	"fmt"
	"strings"
)

// Match reports whether routingKey matches the binding pattern with AMQP
// topic-exchange semantics: words are separated by ".", "*" matches exactly
// one word and "#" zero or more. So "db.health.#" matches every event,
// "db.health.*.postgres" one kind, and "db.health.*" none of this service's
// keys (they all have four words).
func Match(pattern, routingKey string) bool {
	return matchWords(words(pattern), words(routingKey))
}

// words splits a key into words; the empty key has none (as in RabbitMQ).
func words(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ".")
}

func matchWords(p, k []string) bool {
	for len(p) > 0 {
		switch p[0] {
		case "#":
			for len(p) > 1 && p[1] == "#" {
				p = p[1:]
			}
			rest := p[1:]
			if len(rest) == 0 {
				return true
			}
			for i := 0; i <= len(k); i++ {
				if matchWords(rest, k[i:]) {
					return true
				}
			}
			return false
		case "*":
			if len(k) == 0 {
				return false
			}
		default:
			if len(k) == 0 || k[0] != p[0] {
				return false
			}
		}
		p, k = p[1:], k[1:]
	}
	return len(k) == 0
}

// checkBinding rejects binding keys RabbitMQ would refuse or that cannot
// match anything: empty, longer than 255 bytes, or with an empty word.
func checkBinding(b string) error {
	if b == "" || len(b) > 255 {
		return fmt.Errorf("bus: binding %q: want 1..255 bytes", b)
	}
	for _, w := range words(b) {
		if w == "" {
			return fmt.Errorf("bus: binding %q: empty word", b)
		}
	}
	return nil
}
