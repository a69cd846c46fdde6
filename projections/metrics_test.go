package projections

import (
	"math"
	"testing"
	"time"
)

func TestLatencyBucket(t *testing.T) {
	for _, c := range []struct {
		ms   float64
		want int
	}{{0, 0}, {1, 0}, {1.01, 1}, {3, 2}, {5, 2}, {10000, 12}, {10001, 13}, {1e9, LatencyBuckets - 1}} {
		if got := LatencyBucket(c.ms); got != c.want {
			t.Errorf("LatencyBucket(%v) = %d, want %d", c.ms, got, c.want)
		}
	}
}

func TestWeight(t *testing.T) {
	h := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	now := h.Add(15 * time.Minute)
	for _, c := range []struct {
		name string
		hour time.Time
		d    time.Duration
		want float64
	}{
		{"current hour", h, time.Hour, 1},
		{"previous hour, 1h window", h.Add(-time.Hour), time.Hour, 0.75},
		{"two hours ago, 1h window", h.Add(-2 * time.Hour), time.Hour, 0},
		{"oldest hour of 24h", h.Add(-24 * time.Hour), 24 * time.Hour, 0.75},
		{"inside 24h", h.Add(-23 * time.Hour), 24 * time.Hour, 1},
		{"future hour", h.Add(time.Hour), time.Hour, 0},
	} {
		if got := weight(c.hour, now, c.d); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("%s: weight = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestQuantile(t *testing.T) {
	hist := func(counts map[int]float64) []float64 {
		h := make([]float64, LatencyBuckets)
		for i, c := range counts {
			h[i] = c
		}
		return h
	}
	for _, c := range []struct {
		name string
		q    float64
		hist []float64
		max  float64
		want float64
	}{
		{"empty", 0.5, hist(nil), 0, 0},
		{"first bucket interpolated from 0", 0.5, hist(map[int]float64{0: 10}), 1, 0.5},
		{"capped by the slowest check", 0.99, hist(map[int]float64{2: 10}), 3, 3},
		{"second bucket", 0.75, hist(map[int]float64{0: 50, 3: 50}), 10, 5 + 5*0.5},
		{"overflow bucket ends at the max", 0.5, hist(map[int]float64{LatencyBuckets - 1: 4}), 30000, 10000 + 20000*0.5},
	} {
		if got := quantile(c.q, c.hist, c.max); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("%s: quantile = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	h := time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)
	now := h.Add(30 * time.Minute)
	lat := func(i int, n int64) []int64 {
		l := make([]int64, LatencyBuckets)
		l[i] = n
		return l
	}
	rs := []Rollup{
		{Hour: h.Add(-6 * 24 * time.Hour), Checks: 100, Up: 0, Down: 100, Errors: 100, MaxLatencyMS: 900, Latency: lat(8, 100)},
		{Hour: h.Add(-24 * time.Hour), Checks: 10, Up: 0, Down: 10, Errors: 10, MaxLatencyMS: 40, Latency: lat(5, 10)},
		{Hour: h.Add(-time.Hour), Checks: 20, Up: 10, Degraded: 10, MaxLatencyMS: 4, Latency: lat(2, 20)},
		{Hour: h, Checks: 10, Up: 10, MaxLatencyMS: 4, Latency: lat(2, 10)},
	}
	m := Summarize("postgres", "main", rs, now)
	// 1h: h in full, half of h-1 (5 up of 10); 24h: half of h-24 (0 of
	// 5), h-1, h; 7d: everything.
	want := map[string]float64{Window1h: 15.0 / 20, Window24h: 20.0 / 35, Window7d: 20.0 / 140}
	for w, u := range want {
		if got := m.Uptime[w]; got == nil || math.Abs(*got-u) > 1e-12 {
			t.Errorf("uptime %s = %v, want %v", w, got, u)
		}
	}
	if m.Checks != 35 || math.Abs(m.ErrorRate-5.0/35) > 1e-12 {
		t.Errorf("checks %d error rate %v, want 35 and %v", m.Checks, m.ErrorRate, 5.0/35)
	}
	// p50 inside (2.5, 5], capped at 40 ms overall; p99 in (25, 50] -> capped at 40.
	if m.LatencyMS.P50 <= 2.5 || m.LatencyMS.P50 > 5 || m.LatencyMS.P99 <= 25 || m.LatencyMS.P99 > 40 {
		t.Errorf("latency = %+v", m.LatencyMS)
	}
	empty := Summarize("postgres", "idle", nil, now)
	if len(empty.Uptime) != 3 || empty.Uptime[Window1h] != nil || empty.Checks != 0 || empty.LatencyMS != (LatencyPercentiles{}) {
		t.Errorf("no rollups: %+v", empty)
	}
}
