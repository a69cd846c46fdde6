package mute

import (
	"errors"
	"fmt"
	"slices"

	"gopkg.in/yaml.v3"
)

// windowYAMLKeys are the keys of a window in YAML.
var windowYAMLKeys = []string{"name", "matchers", "starts_at", "ends_at", "cron", "duration", "time_zone", "created_by", "comment"}

// matcherYAMLKeys are the keys of a matcher in YAML (snake_case, or
// Alertmanager's camelCase).
var matcherYAMLKeys = []string{"name", "value", "is_regex", "is_equal", "isRegex", "isEqual"}

// windowYAML is Window in YAML: Duration as a string.
type windowYAML struct {
	windowFields `yaml:",inline"`
	Duration     string `yaml:"duration,omitempty"`
}

// UnmarshalYAML decodes a window of the `maintenance:` section; unknown
// keys are errors, Duration is a Go duration string.
func (w *Window) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, windowYAMLKeys); err != nil {
		return err
	}
	var v windowYAML
	if err := n.Decode(&v); err != nil {
		return err
	}
	return w.fromWire(v.windowFields, v.Duration)
}

// MarshalYAML writes Duration as a Go duration string.
func (w Window) MarshalYAML() (any, error) {
	v := windowYAML{windowFields: windowFields(w)}
	if w.Duration != 0 {
		v.Duration = w.Duration.String()
	}
	return v, nil
}

// UnmarshalYAML decodes a matcher; is_equal (or isEqual) is true when
// absent.
func (m *Matcher) UnmarshalYAML(n *yaml.Node) error {
	if err := knownKeys(n, matcherYAMLKeys); err != nil {
		return err
	}
	var v struct {
		Name         string `yaml:"name"`
		Value        string `yaml:"value"`
		IsRegex      *bool  `yaml:"is_regex"`
		IsEqual      *bool  `yaml:"is_equal"`
		IsRegexCamel *bool  `yaml:"isRegex"`
		IsEqualCamel *bool  `yaml:"isEqual"`
	}
	if err := n.Decode(&v); err != nil {
		return err
	}
	*m = Matcher{Name: v.Name, Value: v.Value, IsEqual: true}
	for _, b := range []*bool{v.IsRegex, v.IsRegexCamel} {
		if b != nil {
			m.IsRegex = *b
		}
	}
	for _, b := range []*bool{v.IsEqual, v.IsEqualCamel} {
		if b != nil {
			m.IsEqual = *b
		}
	}
	return nil
}

// knownKeys fails on a mapping key not in keys (yaml.v3's KnownFields
// does not reach a custom unmarshaler).
func knownKeys(n *yaml.Node, keys []string) error {
	if n.Kind != yaml.MappingNode {
		return nil // Decode reports the type error
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; !slices.Contains(keys, k.Value) {
			return fmt.Errorf("line %d: unknown field %q", k.Line, k.Value)
		}
	}
	return nil
}

// ParseWindowsYAML decodes and validates the `maintenance:` section of the
// targets file: a sequence of windows. Each gets Source "config" and, when
// it has none, the ID "config:<name>". Names must be set and unique. An
// error names the window ("maintenance[1] (backup): ...") and wraps the
// *FieldError.
func ParseWindowsYAML(n *yaml.Node) ([]Window, error) {
	if n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null") {
		return nil, nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("maintenance: line %d: want a list of windows", n.Line)
	}
	out := make([]Window, 0, len(n.Content))
	seen := map[string]bool{}
	var errs []error
	for i, item := range n.Content {
		var w Window
		if err := item.Decode(&w); err != nil {
			errs = append(errs, fmt.Errorf("maintenance[%d]: %w", i, err))
			continue
		}
		w.Source = SourceConfig
		if w.ID == "" {
			w.ID = "config:" + w.Name
		}
		switch {
		case w.Name == "":
			errs = append(errs, fmt.Errorf("maintenance[%d]: %w", i, fieldErr("name", "required")))
		case seen[w.Name]:
			errs = append(errs, fmt.Errorf("maintenance[%d] (%s): %w", i, w.Name, fieldErr("name", "duplicate")))
		default:
			if err := w.Validate(); err != nil {
				errs = append(errs, fmt.Errorf("maintenance[%d] (%s): %w", i, w.Name, err))
			}
		}
		seen[w.Name] = true
		out = append(out, w)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}
