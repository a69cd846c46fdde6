package mute

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// Matcher names accepted in Matcher.Name.
const (
	MatchType     = "type"
	MatchName     = "name"
	MatchSeverity = "severity"
)

// Matcher has Alertmanager's shape. Name is one of "type", "name",
// "severity"; Value is a literal or, with IsRegex, a regular expression
// anchored at both ends; IsEqual false negates the match.
type Matcher struct {
	Name    string `json:"name" yaml:"name"`
	Value   string `json:"value" yaml:"value"`
	IsRegex bool   `json:"isRegex" yaml:"is_regex"`
	// IsEqual is true when absent in JSON or YAML.
	IsEqual bool `json:"isEqual" yaml:"is_equal"`
}

// Subject is what matchers are matched against: an alert's target and
// severity, and the alert's id (for acks).
type Subject struct {
	Type, Name, Severity, AlertID string
}

// field is the subject's value of matcher name n.
func (s Subject) field(n string) string {
	switch n {
	case MatchType:
		return s.Type
	case MatchName:
		return s.Name
	case MatchSeverity:
		return s.Severity
	}
	return ""
}

// UnmarshalJSON decodes a matcher; a missing isEqual means true.
func (m *Matcher) UnmarshalJSON(b []byte) error {
	type plain Matcher
	v := plain{IsEqual: true}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*m = Matcher(v)
	return nil
}

// matchFunc is a compiled matcher.
type matchFunc func(Subject) bool

// compile validates m and returns its match function; errors name the
// field under prefix (e.g. "matchers[0]").
func (m Matcher) compile(prefix string) (matchFunc, error) {
	switch m.Name {
	case MatchType, MatchName, MatchSeverity:
	default:
		return nil, fieldErr(prefix+".name", fmt.Sprintf("unknown matcher name %q (want type, name or severity)", m.Name))
	}
	name, want := m.Name, m.IsEqual
	if !m.IsRegex {
		v := m.Value
		return func(s Subject) bool { return (s.field(name) == v) == want }, nil
	}
	re, err := regexp.Compile("^(?:" + m.Value + ")$")
	if err != nil {
		return nil, fieldErr(prefix+".value", fmt.Sprintf("bad regular expression %q: %v", m.Value, err))
	}
	return func(s Subject) bool { return re.MatchString(s.field(name)) == want }, nil
}

// Matches reports whether s matches m. The regular expression is anchored
// like Alertmanager's (^(?:v)$); an invalid matcher matches nothing.
func (m Matcher) Matches(s Subject) bool {
	f, err := m.compile("")
	return err == nil && f(s)
}

// MatchAll reports whether s matches every matcher of ms (true for none).
func MatchAll(ms []Matcher, s Subject) bool {
	for _, m := range ms {
		if !m.Matches(s) {
			return false
		}
	}
	return true
}

// matchers is a compiled list of matchers, all of which must match.
type matchers []matchFunc

// compileMatchers validates and compiles ms; errors name
// "matchers[i].<field>".
func compileMatchers(ms []Matcher) (matchers, error) {
	out := make(matchers, 0, len(ms))
	for i, m := range ms {
		prefix := fmt.Sprintf("matchers[%d]", i)
		f, err := m.compile(prefix)
		if err != nil {
			return nil, err
		}
		if m.Value == "" && m.IsEqual && !m.IsRegex {
			return nil, fieldErr(prefix+".value", "empty value (an equality matcher needs a value)")
		}
		out = append(out, f)
	}
	return out, nil
}

func (ms matchers) match(s Subject) bool {
	for _, f := range ms {
		if !f(s) {
			return false
		}
	}
	return true
}
