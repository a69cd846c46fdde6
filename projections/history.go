package projections

import (
	"context"

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
// check is counted exactly when it enters the history). Its queue binds
// checks.
type History struct {
	queue
	store HistoryStore
}

// NewHistory returns the history handler group writing to store.
func NewHistory(store HistoryStore) (*History, error) {
	return newGroup[History]("history", store, bindChecked)
}

// Handle applies one event: HealthChecked is recorded, StateChanged
// ignored; an unknown type is an error wrapping events.ErrInvalid.
func (h *History) Handle(ctx context.Context, env events.Envelope) error {
	return dispatch(ctx, env, h.OnHealthChecked, nil)
}

// OnHealthChecked records the check. Idempotent.
func (h *History) OnHealthChecked(ctx context.Context, c events.HealthChecked) error {
	return project(ctx, h.name, c, validChecked, h.store.AppendCheck)
}
