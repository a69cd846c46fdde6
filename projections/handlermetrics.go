package projections

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/events"
)

// HandlerMetrics records the lag of projection handlers, by handler group.
// Their failures are the bus's to count, once per message and outcome
// (dbhealth_bus_events_consume_failed_total{group,outcome}).
type HandlerMetrics struct {
	lag *prometheus.HistogramVec
}

// NewHandlerMetrics registers the handler metrics with reg.
func NewHandlerMetrics(reg prometheus.Registerer) (*HandlerMetrics, error) {
	m := &HandlerMetrics{
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dbhealth_projection_lag_seconds", Help: "Time from an event's creation to its projection.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
		}, []string{"group"}),
	}
	return m, reg.Register(m.lag)
}

// Observe wraps the handler h of group with the lag metric.
func (m *HandlerMetrics) Observe(group string, h func(context.Context, events.Envelope) error) func(context.Context, events.Envelope) error {
	return func(ctx context.Context, e events.Envelope) error {
		if err := h(ctx, e); err != nil {
			return err
		}
		if !e.Time.IsZero() {
			m.lag.WithLabelValues(group).Observe(time.Since(e.Time).Seconds())
		}
		return nil
	}
}

// ObserveBatch wraps the batch handler h of group (it returns the indexes
// of poison checks) with the lag metric.
func (m *HandlerMetrics) ObserveBatch(group string, h func(context.Context, []events.HealthChecked) ([]int, error)) func(context.Context, []events.HealthChecked) ([]int, error) {
	return func(ctx context.Context, hs []events.HealthChecked) ([]int, error) {
		poison, err := h(ctx, hs)
		if err != nil {
			return poison, err
		}
		now := time.Now()
		lag := m.lag.WithLabelValues(group)
		for _, c := range hs {
			lag.Observe(now.Sub(c.CheckedAt).Seconds())
		}
		return poison, nil
	}
}
