package probes

import (
	"time"

	"github.com/dbhealth/database-service/events"
)

// Check is one probe result with the slot it was claimed for.
type Check struct {
	Result  Result
	Slot    int64
	Trigger Trigger
}

// HealthChecked is the event data of the check, made by prober (a
// replica id): the result's (Result.HealthChecked) with the check's slot.
func (c Check) HealthChecked(prober string) events.HealthChecked {
	h := c.Result.HealthChecked()
	h.Slot, h.Prober = c.Slot, prober
	return h
}

// HealthChecked is the one mapping from a probe result to the shape of a
// check at the boundaries (the event, a connection test, the CLI probe);
// Slot and Prober are left zero: a result that is not a claimed check
// (a test, the CLI) has neither.
func (r Result) HealthChecked() events.HealthChecked {
	return events.HealthChecked{
		Target:    events.TargetRef{Type: string(r.Target.Kind), Name: r.Target.Name},
		State:     string(r.State),
		LatencyMS: LatencyMS(r.Latency),
		Details:   r.Details,
		ErrorKind: string(r.ErrorKind),
		Error:     r.Error,
		CheckedAt: r.CheckedAt.UTC(),
	}
}

// Reason is the reason of the check's state: the result's reason, or
// "healthy" for an UP result without one.
func (c Check) Reason() string {
	if c.Result.Reason == "" && c.Result.State == StateUp {
		return "healthy"
	}
	return c.Result.Reason
}

// LatencyMS is a latency in milliseconds with microsecond precision, as
// events and the API report it.
func LatencyMS(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
