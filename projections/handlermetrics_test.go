package projections_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

func TestHandlerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := projections.NewHandlerMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var fail error
	h := m.Observe("status", func(context.Context, events.Envelope) error { return fail })
	batch := m.ObserveBatch("checks", func(context.Context, []events.HealthChecked) ([]int, error) { return []int{1}, fail })
	past := time.Now().Add(-time.Second)
	_ = h(t.Context(), events.Envelope{Time: past})
	if poison, _ := batch(t.Context(), []events.HealthChecked{{CheckedAt: past}, {CheckedAt: past}}); len(poison) != 1 {
		t.Errorf("poison %v, want the handler's", poison)
	}
	fail = boom
	if err := h(t.Context(), events.Envelope{}); !errors.Is(err, boom) {
		t.Errorf("Observe returned %v, want the handler's error", err)
	}
	_, _ = batch(t.Context(), make([]events.HealthChecked, 3))
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, mm := range mf.GetMetric() {
			key := mf.GetName() + "/" + mm.GetLabel()[0].GetValue()
			got[key] = mm.GetCounter().GetValue() + float64(mm.GetHistogram().GetSampleCount())
			if s := mm.GetHistogram().GetSampleSum(); mm.GetHistogram() != nil && s < 1 {
				t.Errorf("%s lag sum %v, want at least the second the events waited", key, s)
			}
		}
	}
	if len(got) != 2 {
		t.Errorf("series %v, want only the lag (failures are the bus's to count)", got)
	}
	for key, want := range map[string]float64{
		"dbhealth_projection_lag_seconds/status": 1, "dbhealth_projection_lag_seconds/checks": 2,
	} {
		if got[key] != want {
			t.Errorf("%s = %v, want %v", key, got[key], want)
		}
	}
}
