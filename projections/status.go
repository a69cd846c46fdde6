package projections

import (
	"context"

	"github.com/dbhealth/database-service/events"
)

// StatusStore keeps the current status of every target. Both writes are
// guarded: a check moves the "last check" fields only if its slot is newer
// than the stored one; a transition moves state and since only if its
// (epoch, seq) is greater (a larger epoch wins, then a larger seq).
type StatusStore interface {
	// PutCheck records c as the last check of its target if c is newer.
	PutCheck(ctx context.Context, c events.HealthChecked) error
	// PutTransition records the new state of s's target if s is newer,
	// and s.Check as the last check if that is newer.
	PutTransition(ctx context.Context, s events.StateChanged) error
}

// Status is the handler group of the current-status projection: it
// consumes both event types. Its queue binds transitions only (the Checks
// group writes the last check of each status).
type Status struct {
	queue
	store StatusStore
}

// NewStatus returns the status handler group writing to store.
func NewStatus(store StatusStore) (*Status, error) {
	return newGroup[Status]("status", store, bindChanged)
}

// Handle applies one event; an unknown type is an error wrapping
// events.ErrInvalid.
func (s *Status) Handle(ctx context.Context, env events.Envelope) error {
	return dispatch(ctx, env, s.OnHealthChecked, s.OnStateChanged)
}

// OnHealthChecked records the check as the target's last check unless a
// newer one is already recorded. Idempotent.
func (s *Status) OnHealthChecked(ctx context.Context, h events.HealthChecked) error {
	return project(ctx, s.name, h, validChecked, s.store.PutCheck)
}

// OnStateChanged moves the target's state unless a later transition is
// already recorded; the deciding check counts as a check. Idempotent.
func (s *Status) OnStateChanged(ctx context.Context, sc events.StateChanged) error {
	return project(ctx, s.name, sc, validChanged, s.store.PutTransition)
}
