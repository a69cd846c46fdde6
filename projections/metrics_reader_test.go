package projections

import (
	"context"
	"errors"
	"testing"

	"github.com/dbhealth/database-service/events"
)

func TestMetricsReader(t *testing.T) {
	var calls [][]events.TargetRef
	r := MetricsReader(func(_ context.Context, ts []events.TargetRef) ([]TargetMetrics, error) {
		calls = append(calls, ts)
		out := make([]TargetMetrics, len(ts))
		for i, tr := range ts {
			out[i] = TargetMetrics{Type: tr.Type, Name: tr.Name}
		}
		return out, nil
	})
	ctx := context.Background()
	if m, err := r.One(ctx, "redis", "a"); err != nil || m.Type != "redis" || m.Name != "a" {
		t.Fatalf("One = %+v, %v", m, err)
	}
	ts := []events.TargetRef{{Type: "redis", Name: "a"}, {Type: "redis", Name: "b"}, {Type: "redis", Name: "c"}}
	list := func(context.Context) ([]events.TargetRef, error) { return ts, nil }
	for batch, wantCalls := range map[int]int{0: 1, 2: 2, 5: 1} {
		calls = nil
		ms, err := r.All(ctx, list, batch)
		if err != nil || len(ms) != 3 || ms[2].Name != "c" || len(calls) != wantCalls {
			t.Errorf("All(batch %d) = %+v, %v in %d calls, want 3 in %d", batch, ms, err, len(calls), wantCalls)
		}
	}
	boom := errors.New("down")
	if _, err := r.All(ctx, func(context.Context) ([]events.TargetRef, error) { return nil, boom }, 0); !errors.Is(err, boom) {
		t.Errorf("All with a failing list: %v", err)
	}
	if ms, err := r.All(ctx, func(context.Context) ([]events.TargetRef, error) { return nil, nil }, 0); err != nil || ms == nil || len(ms) != 0 {
		t.Errorf("All of no targets = %#v, %v, want an empty slice", ms, err)
	}
}
