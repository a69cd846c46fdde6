// Package secret holds a string type for credentials that never prints its
// value: not through fmt verbs, slog, JSON, YAML nor error messages.
package secret

import (
	"fmt"
	"log/slog"
	"strings"
)

// Mask is what a non-empty secret prints as everywhere.
const Mask = "******"

// String is a credential (password, token, DSN with credentials). Use
// Reveal to get the value for the one place that needs it (a client
// constructor); every other way of printing it yields Mask.
type String string

// Reveal returns the secret value. Call it only where a client needs it.
func (s String) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s String) IsSet() bool { return s != "" }

// String implements fmt.Stringer.
func (s String) String() string {
	if s == "" {
		return ""
	}
	return Mask
}

// GoString implements fmt.GoStringer so %#v redacts too.
func (s String) GoString() string { return `secret.String("` + s.String() + `")` }

// Format makes every fmt verb (%s %v %q %x %d ...) print the mask.
func (s String) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue implements slog.LogValuer.
func (s String) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON implements json.Marshaler.
func (s String) MarshalJSON() ([]byte, error) { return []byte(`"` + s.String() + `"`), nil }

// MarshalText implements encoding.TextMarshaler (YAML, env dumps).
func (s String) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler so env and YAML decoding
// still read the real value.
func (s *String) UnmarshalText(b []byte) error { *s = String(b); return nil }

// Scrub replaces every occurrence of each non-empty secret in msg with Mask.
// Use it on error messages that may echo a DSN or a password back.
func Scrub(msg string, secrets ...String) string {
	for _, s := range secrets {
		if len(s) >= 3 {
			msg = strings.ReplaceAll(msg, string(s), Mask)
		}
	}
	return msg
}
