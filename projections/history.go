package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbhealth/database-service/events"
)

// HistoryStore appends checks to the history of their target and to its
// hourly metrics rollups, once per (target, slot): a check whose slot is
// not newer than the newest recorded one is dropped as a duplicate.
type HistoryStore interface {
	// AppendCheck records c in the history and the rollups.
	AppendCheck(ctx context.Context, c events.HealthChecked) error
}

// History is the handler group of the history projection, which also
// maintains the hourly metrics rollups (in the same atomic write, so a
// check is counted exactly when it enters the history).
type History struct{ store HistoryStore }

// NewHistory returns the history handler group writing to store.
func NewHistory(store HistoryStore) (*History, error) {
	if store == nil {
		return nil, errors.New("projections: history: nil store")
	}
	return &History{store: store}, nil
}

// Name is the consumer group (queue) name of the projection.
func (*History) Name() string { return "history" }

// Bindings are the routing keys the group's queue binds.
func (*History) Bindings() []string { return []string{bindChecked} }

// Handle applies one event: HealthChecked is recorded, StateChanged
// ignored; an unknown type is an error wrapping events.ErrInvalid.
func (h *History) Handle(ctx context.Context, env events.Envelope) error {
	return dispatch(ctx, env, h.OnHealthChecked, nil)
}

// OnHealthChecked records the check. Idempotent.
func (h *History) OnHealthChecked(ctx context.Context, c events.HealthChecked) error {
	if err := validChecked(c); err != nil {
		return err
	}
	if err := h.store.AppendCheck(ctx, c); err != nil {
		return fmt.Errorf("projections: history %s: %w", c.ID(), err)
	}
	return nil
}
