package mute

import (
	"strings"
	"time"
)

// Statuses of a silence.
const (
	StatusActive  = "active"
	StatusPending = "pending"
	StatusExpired = "expired"
)

// Silence mutes the alerts its matchers match from StartsAt to EndsAt.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Status is "active", "pending" or "expired", computed by StatusAt;
	// stores do not keep it.
	Status string `json:"status"`
}

// Validate checks the silence; the error is a *FieldError. A silence needs
// a matcher, known names, valid regular expressions, a value for every
// equality matcher and, like Alertmanager, at least one matcher that does
// not match the empty string (so that it cannot match every alert); endsAt
// must be after startsAt, and createdBy set.
func (s Silence) Validate() error {
	if len(s.Matchers) == 0 {
		return fieldErr("matchers", "at least one matcher is required")
	}
	ms, err := compileMatchers(s.Matchers)
	if err != nil {
		return err
	}
	empty := true
	for _, f := range ms {
		// Type, name and severity all empty: what a matcher matches when
		// it would match anything.
		empty = empty && f(Subject{})
	}
	if empty {
		return fieldErr("matchers", "at least one matcher must not match the empty string")
	}
	if s.EndsAt.IsZero() {
		return fieldErr("endsAt", "required")
	}
	if !s.EndsAt.After(s.StartsAt) {
		return fieldErr("endsAt", "must be after startsAt")
	}
	if strings.TrimSpace(s.CreatedBy) == "" {
		return fieldErr("createdBy", "required")
	}
	return nil
}

// StatusAt is "pending" before StartsAt, "active" from StartsAt until
// EndsAt, and "expired" from EndsAt on.
func (s Silence) StatusAt(now time.Time) string {
	switch {
	case now.Before(s.StartsAt):
		return StatusPending
	case now.Before(s.EndsAt):
		return StatusActive
	}
	return StatusExpired
}

// ActiveAt reports whether the silence mutes at now.
func (s Silence) ActiveAt(now time.Time) bool { return s.StatusAt(now) == StatusActive }

// WithStatus returns a copy of ss with every Status computed at now.
func WithStatus(ss []Silence, now time.Time) []Silence {
	out := make([]Silence, len(ss))
	for i, s := range ss {
		s.Status = s.StatusAt(now)
		out[i] = s
	}
	return out
}
