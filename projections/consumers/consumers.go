// Package consumers puts the projections on the bus: each read-model
// handler group on its shared queue, wrapped with its metrics.
package consumers

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/projections"
)

// Bus is where the projections consume (*bus.Bus).
type Bus interface {
	AddConsumer(group string, bindings []string, h bus.Handler) error
	AddCheckConsumer(group string, bindings []string, h bus.CheckHandler) error
}

// Models are the read models the projections write.
type Models interface {
	projections.CheckStore
	projections.StatusStore
	projections.AlertStore
}

// projection is one read-model handler group.
type projection interface {
	Name() string
	Bindings() []string
	Handle(ctx context.Context, e events.Envelope) error
}

// Add puts the checks, status and alerts projections over models on b,
// their lag and failures recorded in reg.
func Add(b Bus, models Models, reg prometheus.Registerer) error {
	m, err := projections.NewHandlerMetrics(reg)
	if err != nil {
		return err
	}
	ck, err := projections.NewChecks(models)
	if err != nil {
		return err
	}
	if err := b.AddCheckConsumer(ck.Name(), ck.Bindings(), m.ObserveBatch(ck.Name(), ck.HandleBatch)); err != nil {
		return fmt.Errorf("projection %s: %w", ck.Name(), err)
	}
	st, err := projections.NewStatus(models)
	if err != nil {
		return err
	}
	al, err := projections.NewAlerts(models)
	if err != nil {
		return err
	}
	for _, p := range []projection{st, al} {
		if err := b.AddConsumer(p.Name(), p.Bindings(), m.Observe(p.Name(), p.Handle)); err != nil {
			return fmt.Errorf("projection %s: %w", p.Name(), err)
		}
	}
	return nil
}
