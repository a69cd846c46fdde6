package probes

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// ObservedSink is a Sink that records each applied check in metrics: the
// probe's duration, the target's last state and the checks applied.
type ObservedSink struct {
	next     Sink
	duration *prometheus.HistogramVec
	up       *prometheus.GaugeVec
	state    *prometheus.GaugeVec
	checks   *prometheus.CounterVec
}

// NewObservedSink wraps next and registers its metrics with reg.
func NewObservedSink(next Sink, reg prometheus.Registerer) (*ObservedSink, error) {
	s := &ObservedSink{
		next: next,
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
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
	}
	var errs []error
	for _, c := range []prometheus.Collector{s.duration, s.up, s.state, s.checks} {
		errs = append(errs, reg.Register(c))
	}
	return s, errors.Join(errs...)
}

// Apply implements Sink.
func (s *ObservedSink) Apply(ctx context.Context, checks []Check) ([]Outcome, error) {
	out, err := s.next.Apply(ctx, checks)
	for i, c := range checks {
		r := c.Result
		kind, name := string(r.Target.Kind), r.Target.Name
		s.duration.WithLabelValues(kind, name).Observe(r.Latency.Seconds())
		if refused := err == nil && i < len(out) && out[i].Refused; !refused { // else in dbhealth_outbox_full_total
			s.checks.WithLabelValues(kind, string(c.Trigger), string(r.State)).Inc()
		}
		up := 1.0
		if r.State == StateDown {
			up = 0
		}
		s.up.WithLabelValues(kind, name).Set(up)
		for _, st := range []State{StateUp, StateDegraded, StateDown} {
			v := 0.0
			if st == r.State {
				v = 1
			}
			s.state.WithLabelValues(kind, name, string(st)).Set(v)
		}
	}
	return out, err
}

// Forget drops the per-target series of a removed target.
func (s *ObservedSink) Forget(t Target) {
	kind, name := string(t.Kind), t.Name
	s.duration.DeleteLabelValues(kind, name)
	s.up.DeleteLabelValues(kind, name)
	for _, st := range []State{StateUp, StateDegraded, StateDown} {
		s.state.DeleteLabelValues(kind, name, string(st))
	}
}

// Collectors are the scheduler's counters of skipped probes and dropped
// results.
func (s *Scheduler) Collectors() []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dbhealth_probes_skipped_total",
			Help: "Scheduled probes skipped because the target's previous probe was still queued or running.",
		}, func() float64 { return float64(s.Skipped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dbhealth_probe_results_dropped_total",
			Help: "Probe results dropped because their target had left the configuration meanwhile.",
		}, func() float64 { return float64(s.Dropped()) }),
	}
}
