package projections

import (
	"context"

	"github.com/dbhealth/database-service/events"
)

// AlertStore derives alerts from transitions. It must be idempotent by
// event id and give the same alerts whatever order the transitions of a
// target arrive in.
//
// Incidents: a transition from UP or UNKNOWN into DOWN or DEGRADED opens an
// incident whose alert id is the id of that transition
// ("<type>/<name>:<epoch>:<seq>"); DOWN<->DEGRADED inside an incident
// keeps the same alert and moves its severity (critical/warning) and
// reason to the latest state; the next transition to UP resolves it. The
// initial transition out of UNKNOWN into UP opens nothing. A newer epoch
// (the coordinator lost its state) resolves the open incidents of older
// epochs at the new epoch's start.
type AlertStore interface {
	// RecordTransition applies s to the alerts of its target.
	RecordTransition(ctx context.Context, s events.StateChanged) error
}

// Alerts is the handler group of the alerts projection; its queue binds
// transitions.
type Alerts struct {
	queue
	store AlertStore
}

// NewAlerts returns the alerts handler group writing to store.
func NewAlerts(store AlertStore) (*Alerts, error) {
	return newGroup[Alerts]("alerts", store, bindChanged)
}

// Handle applies one event: StateChanged is recorded, HealthChecked
// ignored; an unknown type is an error wrapping events.ErrInvalid.
func (a *Alerts) Handle(ctx context.Context, env events.Envelope) error {
	return dispatch(ctx, env, nil, a.OnStateChanged)
}

// OnStateChanged applies the transition to the target's alerts.
// Idempotent.
func (a *Alerts) OnStateChanged(ctx context.Context, s events.StateChanged) error {
	return project(ctx, a.name, s, validChanged, a.store.RecordTransition)
}
