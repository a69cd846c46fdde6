package projections

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/events"
)

// HandlerMetrics records the lag and the failures of projection handlers,
// by handler group.
type HandlerMetrics struct {
	lag    *prometheus.HistogramVec
	failed *prometheus.CounterVec
}

// NewHandlerMetrics registers the handler metrics with reg.
func NewHandlerMetrics(reg prometheus.Registerer) (*HandlerMetrics, error) {
	m := &HandlerMetrics{
		lag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dbhealth_projection_lag_seconds", Help: "Time from an event's creation to its projection.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
		}, []string{"group"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_projection_failures_total", Help: "Projection handler errors (retried, then dead-lettered).",
		}, []string{"group"}),
	}
	return m, errors.Join(reg.Register(m.lag), reg.Register(m.failed))
}

// Observe wraps the handler h of group with lag and failure metrics.
func (m *HandlerMetrics) Observe(group string, h func(context.Context, events.Envelope) error) func(context.Context, events.Envelope) error {
	return func(ctx context.Context, e events.Envelope) error {
		err := h(ctx, e)
		if err != nil {
			m.failed.WithLabelValues(group).Inc()
			return err
		}
		if !e.Time.IsZero() {
			m.lag.WithLabelValues(group).Observe(time.Since(e.Time).Seconds())
		}
		return nil
	}
}

// ObserveBatch wraps the batch handler h of group (it returns the indexes
// of poison checks) with lag and failure metrics.
func (m *HandlerMetrics) ObserveBatch(group string, h func(context.Context, []events.HealthChecked) ([]int, error)) func(context.Context, []events.HealthChecked) ([]int, error) {
	return func(ctx context.Context, hs []events.HealthChecked) ([]int, error) {
		poison, err := h(ctx, hs)
		if err != nil {
			m.failed.WithLabelValues(group).Add(float64(len(hs)))
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
