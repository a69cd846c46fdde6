package projections

import (
	"math"
	"time"

	"github.com/dbhealth/database-service/events"
)

// latencyBounds are the upper bounds (ms, inclusive) of the latency
// histogram of the rollups; one more bucket holds everything slower.
var latencyBounds = [...]float64{1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000}

// LatencyBuckets is the number of buckets of the rollup latency histogram.
const LatencyBuckets = len(latencyBounds) + 1

// LatencyBucket is the histogram bucket (0..LatencyBuckets-1) of a latency
// in milliseconds.
func LatencyBucket(ms float64) int {
	for i, b := range latencyBounds {
		if ms <= b {
			return i
		}
	}
	return len(latencyBounds)
}

// Metric windows, the keys of TargetMetrics.Uptime.
const (
	Window1h  = "1h"
	Window24h = "24h"
	Window7d  = "7d"
)

// RollupRetention is how long hourly rollups are kept: long enough for the
// 7d window plus the partly covered oldest hour.
const RollupRetention = 8 * 24 * time.Hour

// Rollup counts one target's checks over one hour.
type Rollup struct {
	// Hour is the start of the hour.
	Hour time.Time
	// Checks is the number of checks; Up, Degraded and Down split them by
	// observed state; Errors counts those with an error.
	Checks, Up, Degraded, Down, Errors int64
	// MaxLatencyMS is the slowest check of the hour.
	MaxLatencyMS float64
	// Latency counts checks per histogram bucket (LatencyBuckets long, or
	// nil when not needed).
	Latency []int64
}

// Summarize computes a target's metrics at now from its hourly rollups.
//
// A window W covers (now-W, now]. Hour buckets entirely inside count in
// full; the oldest bucket, which the window only partly covers, counts in
// proportion to the covered part (the checks of an hour are assumed to be
// spread evenly over it). So "1h" is the current hour plus the covered
// share of the previous one. Uptime is nil for a window without checks.
// Latency percentiles come from the 24h histogram, interpolated linearly
// inside a bucket and capped at the slowest check seen.
func Summarize(kind, name string, rollups []Rollup, now time.Time) TargetMetrics {
	m := TargetMetrics{Type: kind, Name: name, Uptime: map[string]*float64{}}
	for w, d := range map[string]time.Duration{Window1h: time.Hour, Window24h: 24 * time.Hour, Window7d: 7 * 24 * time.Hour} {
		var n, up float64
		for _, r := range rollups {
			wt := weight(r.Hour, now, d)
			n += wt * float64(r.Checks)
			up += wt * float64(r.Up)
		}
		if n > 0 {
			u := up / n
			m.Uptime[w] = &u
		} else {
			m.Uptime[w] = nil
		}
	}
	var n, errs, maxMS float64
	hist := make([]float64, LatencyBuckets)
	for _, r := range rollups {
		wt := weight(r.Hour, now, 24*time.Hour)
		if wt == 0 {
			continue
		}
		n += wt * float64(r.Checks)
		errs += wt * float64(r.Errors)
		if r.Checks > 0 {
			maxMS = max(maxMS, r.MaxLatencyMS)
		}
		for i, c := range r.Latency {
			if i < len(hist) {
				hist[i] += wt * float64(c)
			}
		}
	}
	m.Checks = int64(math.Round(n))
	if n > 0 {
		m.ErrorRate = errs / n
	}
	m.LatencyMS = LatencyPercentiles{
		P50: quantile(0.50, hist, maxMS),
		P95: quantile(0.95, hist, maxMS),
		P99: quantile(0.99, hist, maxMS),
	}
	return m
}

// weight is the share of the hour starting at hour that the window
// (now-d, now] covers: 1 inside, 0 outside, a fraction for the hour the
// window starts in. An hour after now does not count.
func weight(hour, now time.Time, d time.Duration) float64 {
	if hour.After(now) {
		return 0
	}
	start := now.Add(-d)
	end := hour.Add(time.Hour)
	if !end.After(start) {
		return 0
	}
	if !hour.Before(start) {
		return 1
	}
	return float64(end.Sub(start)) / float64(time.Hour)
}

// quantile estimates the q-quantile of a (weighted) histogram over the
// latency buckets, interpolating inside the bucket it falls in; the result
// never exceeds maxMS. It is 0 for an empty histogram.
func quantile(q float64, hist []float64, maxMS float64) float64 {
	var total float64
	for _, c := range hist {
		total += c
	}
	if total <= 0 {
		return 0
	}
	rank := q * total
	var cum float64
	for i, c := range hist {
		if c <= 0 || cum+c < rank {
			cum += c
			continue
		}
		lo := 0.0
		if i > 0 {
			lo = latencyBounds[i-1]
		}
		hi := maxMS
		if i < len(latencyBounds) {
			hi = latencyBounds[i]
		}
		if hi < lo {
			hi = lo
		}
		v := lo + (hi-lo)*(rank-cum)/c
		if maxMS > 0 && v > maxMS {
			v = maxMS
		}
		return v
	}
	return maxMS
}

// HourOf is the start (Unix ms) of the rollup hour of a slot.
func HourOf(slot int64) int64 { return slot - slot%time.Hour.Milliseconds() }

// OldestRollupHour is the start (Unix ms) of the oldest hour the rollups
// keep at now (RollupRetention).
func OldestRollupHour(now time.Time) int64 { return HourOf(now.Add(-RollupRetention).UnixMilli()) }

// Contribution is what one check adds to its hour's rollup.
type Contribution struct {
	Up, Degraded, Down, Error bool
	// Bucket is the latency histogram bucket; LatencyUS the latency in
	// whole microseconds (the rollups' unit for the slowest check).
	Bucket    int
	LatencyUS int64
}

// ContributionOf is what a check of state, latency and error adds to its
// hour's rollup.
func ContributionOf(state string, latencyMS float64, hasError bool) Contribution {
	return Contribution{
		Up: state == StateUp, Degraded: state == StateDegraded, Down: state == StateDown, Error: hasError,
		Bucket: LatencyBucket(latencyMS), LatencyUS: int64(math.Round(max(latencyMS, 0) * 1000)),
	}
}

// ContributionOfCheck is what check c adds to its hour's rollup: c has an
// error when it carries an error message or kind.
func ContributionOfCheck(c events.HealthChecked) Contribution {
	return ContributionOf(c.State, c.LatencyMS, c.Error != "" || c.ErrorKind != "")
}

// Add counts one check in r.
func (r *Rollup) Add(c Contribution) {
	b := func(v bool) int64 {
		if v {
			return 1
		}
		return 0
	}
	r.Checks++
	r.Up += b(c.Up)
	r.Degraded += b(c.Degraded)
	r.Down += b(c.Down)
	r.Errors += b(c.Error)
	r.MaxLatencyMS = max(r.MaxLatencyMS, float64(c.LatencyUS)/1000)
	if len(r.Latency) < LatencyBuckets {
		r.Latency = append(r.Latency, make([]int64, LatencyBuckets-len(r.Latency))...)
	}
	r.Latency[c.Bucket]++
}
