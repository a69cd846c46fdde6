// Package projections builds the read models the API serves — current
// status, history, alerts and metrics rollups — from HealthChecked and
// StateChanged events. Handlers are idempotent (delivery is at least once)
// and guarded by seq/slot so redelivered or reordered events never move a
// read model backwards. The stores live in redisstore (shared mode) and localstore (standalone).
package projections

import (
	"encoding/json"
	"time"

	"github.com/dbhealth/database-service/events"
)

// TargetStatus is the current status of one target.
type TargetStatus struct {
	Type      string          `json:"type"`
	Name      string          `json:"name"`
	State     string          `json:"state"`
	Since     *time.Time      `json:"since"`
	CheckedAt *time.Time      `json:"checked_at"`
	LatencyMS float64         `json:"latency_ms"`
	Details   json.RawMessage `json:"details"`
	ErrorKind string          `json:"error_kind"`
	Error     string          `json:"error"`
	Prober    string          `json:"prober,omitempty"`
	// Seq and Slot are the last applied transition and check (guards).
	Seq  int64 `json:"seq"`
	Slot int64 `json:"slot"`
	// Epoch is the epoch of the last applied transition (a larger epoch
	// wins over any seq of a smaller one).
	Epoch int64 `json:"epoch"`
	// Reason explains the current state (from the last transition).
	Reason string `json:"reason,omitempty"`
	// Projected is false when State comes from the coordinator's record
	// because the read model has not received the transition yet (see
	// Overlay).
	Projected bool `json:"projected"`
}

// HistoryItem is one check in a target's history.
type HistoryItem struct {
	Type      string    `json:"type"`
	Name      string    `json:"name"`
	State     string    `json:"state"`
	CheckedAt time.Time `json:"checked_at"`
	LatencyMS float64   `json:"latency_ms"`
	ErrorKind string    `json:"error_kind"`
	Error     string    `json:"error"`
	Prober    string    `json:"prober"`
}

// HistoryQuery selects checks of one kind, newest first.
type HistoryQuery struct {
	Type  string
	Name  string    // optional: one target
	Since time.Time // optional, inclusive
	Until time.Time // optional, inclusive
	Limit int       // 1..1000
	// Cursor is the Next of the previous page ("" for the first page).
	Cursor string
}

// HistoryPage is one page of history; Next is empty on the last page.
type HistoryPage struct {
	Items []HistoryItem `json:"items"`
	Next  string        `json:"next"`
}

// Alert severities and states.
const (
	SeverityCritical = string(events.SeverityCritical)
	SeverityWarning  = string(events.SeverityWarning)
	AlertFiring      = "firing"
	AlertResolved    = "resolved"
)

// Alert is one incident of one target: opened by a transition to DOWN
// (critical) or DEGRADED (warning), resolved by the return to UP.
type Alert struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	Name       string     `json:"name"`
	Severity   string     `json:"severity"`
	State      string     `json:"state"`
	Reason     string     `json:"reason"`
	StartedAt  time.Time  `json:"started_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
	// Epoch and Seq are those of the opening transition.
	Epoch int64 `json:"-"`
	Seq   int64 `json:"-"`
	// End says how a resolved alert ended: EndSeq, EndEpoch or EndRemoved.
	End string `json:"-"`
}

// AlertQuery selects alerts: State is firing, resolved or all ("" = all).
type AlertQuery struct {
	State string
	Limit int
}

// Alert query limits, the same in every store.
const (
	DefaultAlertLimit = 100
	MaxAlertLimit     = 1000
)

// ClampedLimit is q.Limit clamped to 1..MaxAlertLimit (DefaultAlertLimit
// when 0 or less).
func (q AlertQuery) ClampedLimit() int {
	return min(positiveOr(q.Limit, DefaultAlertLimit), MaxAlertLimit)
}

// LatencyPercentiles are latency percentiles in milliseconds.
type LatencyPercentiles struct {
	P50 float64 `json:"p50"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// TargetMetrics are the rolled-up metrics of one target.
type TargetMetrics struct {
	Type string `json:"type"`
	Name string `json:"name"`
	// Uptime is the ratio of UP checks over "1h", "24h" and "7d" (null
	// when there was no check in the window).
	Uptime map[string]*float64 `json:"uptime"`
	// LatencyMS over the last 24h.
	LatencyMS LatencyPercentiles `json:"latency_ms"`
	// ErrorRate is the ratio of checks with an error over the last 24h.
	ErrorRate float64 `json:"error_rate"`
	// Checks is the number of checks over the last 24h.
	Checks int64 `json:"checks"`
}
