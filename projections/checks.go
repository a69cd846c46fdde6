package projections

import (
	"context"
	"fmt"

	"github.com/dbhealth/database-service/events"
)

// CheckStore projects a batch of checks, in order, into the status (last
// check), the history and the rollups in one step, each check exactly as
// StatusStore.PutCheck and HistoryStore.AppendCheck would: idempotent per
// (target, slot).
type CheckStore interface {
	ProjectChecks(ctx context.Context, hs []events.HealthChecked) error
}

// Checks is the handler group of the HealthChecked read models: the last
// check of each status, the history and the rollups, written a batch at a
// time (one round trip per batch of deliveries). Its queue binds checks.
type Checks struct {
	queue
	store CheckStore
}

// NewChecks returns the checks handler group writing to store.
func NewChecks(store CheckStore) (*Checks, error) {
	return newGroup[Checks]("checks", store, bindChecked)
}

// HandleBatch projects the valid checks of hs and reports the indices of
// the others (poison). A store error is returned as is: the batch is then
// retried, nothing is poisoned for it.
func (c *Checks) HandleBatch(ctx context.Context, hs []events.HealthChecked) (poison []int, err error) {
	valid := hs
	for i, h := range hs {
		if validChecked(h) != nil {
			poison = append(poison, i)
		}
	}
	if len(poison) > 0 {
		valid = make([]events.HealthChecked, 0, len(hs)-len(poison))
		for _, h := range hs {
			if validChecked(h) == nil {
				valid = append(valid, h)
			}
		}
	}
	if err := c.store.ProjectChecks(ctx, valid); err != nil {
		return poison, fmt.Errorf("projections: checks (%d): %w", len(valid), err)
	}
	return poison, nil
}
