package probes_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/probes"
)

// sinkFunc adapts a function to probes.Sink.
type sinkFunc func(context.Context, []probes.Check) ([]probes.Outcome, error)

func (f sinkFunc) Apply(ctx context.Context, cs []probes.Check) ([]probes.Outcome, error) {
	return f(ctx, cs)
}

func TestObservedSink(t *testing.T) {
	reg := prometheus.NewRegistry()
	var fail error
	s, err := probes.NewObservedSink(sinkFunc(func(_ context.Context, cs []probes.Check) ([]probes.Outcome, error) {
		return []probes.Outcome{{Refused: true}}, fail
	}), reg)
	if err != nil {
		t.Fatal(err)
	}
	tg := probes.Target{Kind: probes.Redis, Name: "cache"}
	check := probes.Check{Trigger: probes.TriggerWatch, Result: probes.Result{Target: tg, State: probes.StateDown}}
	if _, err := s.Apply(t.Context(), []probes.Check{check}); err != nil {
		t.Fatal(err)
	}
	fail = errors.New("store down")
	_, _ = s.Apply(t.Context(), []probes.Check{check}) // not refused: counted
	// The refused check is not counted; the failed apply is.
	if got := series(t, reg, "dbhealth_checks_total"); len(got) != 1 || got[`state="DOWN",trigger="watch",type="redis"`] != 1 {
		t.Errorf("checks_total %v, want the one unrefused DOWN watch check", got)
	}
	if got := series(t, reg, "dbhealth_target_up"); len(got) != 1 || got[`name="cache",type="redis"`] != 0 {
		t.Errorf("target_up %v, want 0 for cache", got)
	}
	s.Forget(tg)
	for _, name := range []string{"dbhealth_target_up", "dbhealth_target_state", "dbhealth_probe_duration_seconds"} {
		if got := series(t, reg, name); len(got) != 0 {
			t.Errorf("%s has %v after Forget, want none", name, got)
		}
	}
}

// series gathers the metric called name: its value by label set.
func series(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			out[strings.Join(ls, ",")] = m.GetGauge().GetValue() + m.GetCounter().GetValue() + float64(m.GetHistogram().GetSampleCount())
		}
	}
	return out
}
