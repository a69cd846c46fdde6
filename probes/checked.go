package probes

import "github.com/dbhealth/database-service/events"

// HealthChecked is the event data of the check, made by prober (a
// replica id). It is the one mapping from a probe result to the event.
func (c Check) HealthChecked(prober string) events.HealthChecked {
	r := c.Result
	return events.HealthChecked{
		Target:    events.TargetRef{Type: string(r.Target.Kind), Name: r.Target.Name},
		State:     string(r.State),
		LatencyMS: LatencyMS(r.Latency),
		Details:   r.Details,
		ErrorKind: string(r.ErrorKind),
		Error:     r.Error,
		CheckedAt: r.CheckedAt.UTC(),
		Slot:      c.Slot,
		Prober:    prober,
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
