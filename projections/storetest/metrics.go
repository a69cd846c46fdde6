package storetest

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"
)

func testMetricsRollups(t *testing.T, fx *fixture) {
	ctx := context.Background()
	h := time.Now().UTC().Truncate(time.Hour)
	fx.clock.Set(h.Add(30 * time.Minute))
	pg := ref("postgres", "m")
	batch := func(start time.Time, n int, state string, latency float64) {
		for i := range n {
			c := checked(pg, state, start.UnixMilli()+int64(i)*1000, latency)
			fx.handle(t, c, c) // each delivered twice
		}
	}
	batch(h.Add(-8*24*time.Hour-2*time.Hour), 5, "DOWN", 20) // out of every window, pruned
	batch(h.Add(-3*24*time.Hour), 10, "DOWN", 20)
	batch(h.Add(-5*time.Hour), 20, "UP", 3)
	batch(h.Add(-time.Hour), 10, "DOWN", 20)
	batch(h, 10, "UP", 3)
	fx.handle(t, changed(ref("postgres", "quiet"), 1, 1, "UNKNOWN", "UP", h.UnixMilli()))

	m, err := fx.store.Metrics(ctx, "postgres", "m")
	if err != nil {
		t.Fatal(err)
	}
	// 1h: the current hour in full plus half of the previous one.
	for w, want := range map[string]float64{"1h": 10.0 / 15, "24h": 30.0 / 40, "7d": 30.0 / 50} {
		if got := m.Uptime[w]; got == nil || math.Abs(*got-want) > 1e-9 {
			t.Errorf("uptime %s = %v, want %.4f", w, deref(got), want)
		}
	}
	if m.Checks != 40 || math.Abs(m.ErrorRate-0.25) > 1e-9 {
		t.Errorf("checks %d error rate %.3f, want 40 and 0.25", m.Checks, m.ErrorRate)
	}
	// p50 falls in the (2.5, 5] bucket holding 30 of 40 checks; p95 and
	// p99 in (10, 25], capped at the slowest check (20 ms).
	if math.Abs(m.LatencyMS.P50-(2.5+2.5*20.0/30)) > 1e-9 || m.LatencyMS.P95 != 20 || m.LatencyMS.P99 != 20 {
		t.Errorf("latency = %+v", m.LatencyMS)
	}
	// The rollup of 8 days ago was pruned.
	old := h.Add(-8*24*time.Hour - 2*time.Hour).UnixMilli()
	fx.settle()
	if slices.Contains(fx.be.RollupHours(fx.store, "postgres", "m"), old) {
		t.Error("a rollup older than 8 days was kept")
	}

	all, err := fx.store.AllMetrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "m" || all[1].Name != "quiet" {
		t.Fatalf("AllMetrics = %+v", all)
	}
	q := all[1]
	if q.Checks != 0 || q.Uptime["1h"] != nil || q.Uptime["7d"] != nil || len(q.Uptime) != 3 {
		t.Fatalf("metrics without checks = %+v", q)
	}
}

func deref(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}
