package notify

import (
	"errors"
	"fmt"
	"path"
	"slices"

	"github.com/dbhealth/database-service/events"
)

// Route selects the notifications a receiver gets. An empty list matches
// everything; a notification must match every non-empty list.
type Route struct {
	// Types are database types ("postgres", ...), exact.
	Types []string `yaml:"types,omitempty" json:"types,omitempty"`
	// Names are globs (path.Match syntax) over target names.
	Names []string `yaml:"names,omitempty" json:"names,omitempty"`
	// Severities are "critical" and/or "warning".
	Severities []string `yaml:"severities,omitempty" json:"severities,omitempty"`
	// SendResolved, true when unset, also sends the resolved
	// notification of a matching alert.
	SendResolved *bool `yaml:"send_resolved,omitempty" json:"send_resolved,omitempty"`
}

// Matches reports whether n is for the receiver.
func (r Route) Matches(n Notification) bool {
	if n.State == StateResolved && r.SendResolved != nil && !*r.SendResolved {
		return false
	}
	if len(r.Types) > 0 && !slices.Contains(r.Types, n.Target.Type) {
		return false
	}
	if len(r.Severities) > 0 && !slices.Contains(r.Severities, string(n.Severity)) {
		return false
	}
	if len(r.Names) == 0 {
		return true
	}
	for _, g := range r.Names {
		if ok, _ := path.Match(g, n.Target.Name); ok {
			return true
		}
	}
	return false
}

// Validate checks the types, globs and severities; errors name the field
// ("types[0]: ...").
func (r Route) Validate() error {
	var errs []error
	for i, t := range r.Types {
		if !events.Kind(t).Valid() {
			errs = append(errs, fmt.Errorf("types[%d]: unknown database type %q (want one of %v)", i, t, events.Kinds))
		}
	}
	for i, g := range r.Names {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("names[%d]: bad glob %q: %w", i, g, err))
		}
	}
	for i, s := range r.Severities {
		if s != string(events.SeverityCritical) && s != string(events.SeverityWarning) {
			errs = append(errs, fmt.Errorf("severities[%d]: unknown severity %q (want critical or warning)", i, s))
		}
	}
	return errors.Join(errs...)
}
