package projections

import (
	"context"
	"errors"
	"fmt"

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
// consumes both event types.
type Status struct{ store StatusStore }

// NewStatus returns the status handler group writing to store.
func NewStatus(store StatusStore) (*Status, error) {
	if store == nil {
		return nil, errors.New("projections: status: nil store")
	}
	return &Status{store: store}, nil
}

// Name is the consumer group (queue) name of the projection.
func (*Status) Name() string { return "status" }

// Bindings are the routing keys the group's queue binds: transitions (the
// Checks group writes the last check of each status).
func (*Status) Bindings() []string { return []string{bindChanged} }

// Handle applies one event; an unknown type is an error wrapping
// events.ErrInvalid.
func (s *Status) Handle(ctx context.Context, env events.Envelope) error {
	return dispatch(ctx, env, s.OnHealthChecked, s.OnStateChanged)
}

// OnHealthChecked records the check as the target's last check unless a
// newer one is already recorded. Idempotent.
func (s *Status) OnHealthChecked(ctx context.Context, h events.HealthChecked) error {
	if err := validChecked(h); err != nil {
		return err
	}
	if err := s.store.PutCheck(ctx, h); err != nil {
		return fmt.Errorf("projections: status %s: %w", h.ID(), err)
	}
	return nil
}

// OnStateChanged moves the target's state unless a later transition is
// already recorded; the deciding check counts as a check. Idempotent.
func (s *Status) OnStateChanged(ctx context.Context, sc events.StateChanged) error {
	if err := validChanged(sc); err != nil {
		return err
	}
	if err := s.store.PutTransition(ctx, sc); err != nil {
		return fmt.Errorf("projections: status %s: %w", sc.ID(), err)
	}
	return nil
}
