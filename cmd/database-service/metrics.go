package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
)

// serviceMetrics are the metrics the wiring records itself (the bus and the
// API register their own).
type serviceMetrics struct {
	probeDuration *prometheus.HistogramVec
	up            *prometheus.GaugeVec
	state         *prometheus.GaugeVec
	checks        *prometheus.CounterVec
	projLag       *prometheus.HistogramVec
	projFailed    *prometheus.CounterVec
}

func newServiceMetrics(reg prometheus.Registerer, outbox *projections.OutboxLimit, outboxLen, alertsFiring func(context.Context) (float64, error)) *serviceMetrics {
	m := &serviceMetrics{
		probeDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dbhealth_probe_duration_seconds", Help: "Duration of probes run by this replica.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}, []string{"type", "name"}),
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dbhealth_target_up", Help: "1 when the last check this replica made of the target was not DOWN.",
		}, []string{"type", "name"}),
		state: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "dbhealth_target_state", Help: "1 for the state of the target's last check by this replica, 0 for the others.",
		}, []string{"type", "name", "state"}),
		checks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_checks_total", Help: "Checks applied by this replica, by trigger and result state.",
		}, []string{"type", "trigger", "state"}),
		projLag: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dbhealth_projection_lag_seconds", Help: "Time from an event's creation to its projection.",
			Buckets: prometheus.ExponentialBuckets(0.001, 3, 10),
		}, []string{"group"}),
		projFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_projection_failures_total", Help: "Projection handler errors (retried, then dead-lettered).",
		}, []string{"group"}),
	}
	gauge := func(name, help string, f func(context.Context) (float64, error)) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			v, err := f(ctx)
			if err != nil {
				return -1
			}
			return v
		})
	}
	reg.MustRegister(m.probeDuration, m.up, m.state, m.checks, m.projLag, m.projFailed,
		gauge("dbhealth_outbox_length", "Transitions recorded but not yet published (-1: store unreachable).", outboxLen),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "dbhealth_outbox_max_length", Help: "The outbox cap (OUTBOX_MAX_LENGTH): checks that would add a transition beyond it are refused.",
		}, func() float64 { return float64(outbox.Max()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dbhealth_outbox_full_total", Help: "Checks refused because they would have added a transition to the full outbox.",
		}, func() float64 { return float64(outbox.RefusedTotal()) }),
		gauge("dbhealth_alerts_firing", "Alerts firing (-1: store unreachable).", alertsFiring),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observedSink records each applied check in the metrics.
type observedSink struct {
	next probes.Sink
	m    *serviceMetrics
}

func (s observedSink) Apply(ctx context.Context, checks []probes.Check) ([]probes.Outcome, error) {
	out, err := s.next.Apply(ctx, checks)
	for i, c := range checks {
		r := c.Result
		kind, name := string(r.Target.Kind), r.Target.Name
		s.m.probeDuration.WithLabelValues(kind, name).Observe(r.Latency.Seconds())
		if refused := err == nil && i < len(out) && out[i].Refused; !refused { // else in dbhealth_outbox_full_total
			s.m.checks.WithLabelValues(kind, string(c.Trigger), string(r.State)).Inc()
		}
		up := 1.0
		if r.State == probes.StateDown {
			up = 0
		}
		s.m.up.WithLabelValues(kind, name).Set(up)
		for _, st := range []probes.State{probes.StateUp, probes.StateDegraded, probes.StateDown} {
			v := 0.0
			if st == r.State {
				v = 1
			}
			s.m.state.WithLabelValues(kind, name, string(st)).Set(v)
		}
	}
	return out, err
}

// forget drops the per-target series of a removed target.
func (m *serviceMetrics) forget(t probes.Target) {
	kind, name := string(t.Kind), t.Name
	m.probeDuration.DeleteLabelValues(kind, name)
	m.up.DeleteLabelValues(kind, name)
	for _, st := range []probes.State{probes.StateUp, probes.StateDegraded, probes.StateDown} {
		m.state.DeleteLabelValues(kind, name, string(st))
	}
}

// observedBatch wraps a batch projection handler with lag and failure
// metrics.
func (m *serviceMetrics) observedBatch(group string, h bus.CheckHandler) bus.CheckHandler {
	return func(ctx context.Context, hs []events.HealthChecked) ([]int, error) {
		poison, err := h(ctx, hs)
		if err != nil {
			m.projFailed.WithLabelValues(group).Add(float64(len(hs)))
			return poison, err
		}
		now := time.Now()
		lag := m.projLag.WithLabelValues(group)
		for _, c := range hs {
			lag.Observe(now.Sub(c.CheckedAt).Seconds())
		}
		return poison, nil
	}
}

// observed wraps a projection handler with lag and failure metrics.
func (m *serviceMetrics) observed(group string, h func(context.Context, events.Envelope) error) func(context.Context, events.Envelope) error {
	return func(ctx context.Context, e events.Envelope) error {
		err := h(ctx, e)
		if err != nil {
			m.projFailed.WithLabelValues(group).Inc()
			return err
		}
		if !e.Time.IsZero() {
			m.projLag.WithLabelValues(group).Observe(time.Since(e.Time).Seconds())
		}
		return nil
	}
}
