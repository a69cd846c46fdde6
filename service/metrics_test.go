package service

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/projections"
)

// The outbox cap and its refusals are exported next to the outbox length.
func TestOutboxMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	limit := projections.NewOutboxLimit(500, nil)
	limit.Refused(3, 500)
	length := func(context.Context) (float64, error) { return 500, nil }
	newServiceMetrics(reg, limit, length, length)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			switch {
			case m.Gauge != nil:
				got[mf.GetName()] = m.Gauge.GetValue()
			case m.Counter != nil:
				got[mf.GetName()] = m.Counter.GetValue()
			}
		}
	}
	for name, want := range map[string]float64{
		"dbhealth_outbox_length": 500, "dbhealth_outbox_max_length": 500, "dbhealth_outbox_full_total": 3,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
}
