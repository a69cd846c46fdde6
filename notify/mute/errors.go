package mute

import "errors"

// ErrNotFound is returned for a silence, a window or an ack the store
// does not hold.
var ErrNotFound = errors.New("mute: not found")

// ErrConfigured is returned for a change to a maintenance window of the
// configuration (the targets file owns it).
var ErrConfigured = errors.New("mute: the window comes from the configuration")

// FieldError names the offending field of bad input, e.g. Field
// "matchers[0].name", "endsAt", "cron", "time_zone".
type FieldError struct {
	// Field is the JSON (or YAML) name of the field, with indexes.
	Field string
	// Reason says what is wrong with it.
	Reason string
}

// Error is "mute: <field>: <reason>".
func (e *FieldError) Error() string { return "mute: " + e.Field + ": " + e.Reason }

// FieldName returns Field (the API maps it to a 400 naming the field).
func (e *FieldError) FieldName() string { return e.Field }

// fieldErr is a *FieldError as an error.
func fieldErr(field, reason string) error { return &FieldError{Field: field, Reason: reason} }
