// Package apiclient holds the REST API's response shapes as another
// program reads them, their fields sorted by JSON name. Tests decode responses into these types, declared
// independently of the api package, so that a changed JSON name or type in
// the API shows up as a test failure rather than passing through a shared
// struct.
package apiclient

import (
	"fmt"
	"time"
)

// Status is the body of GET /api/database/status.
type Status struct {
	Overall   string       `json:"overall"`
	Databases []StatusItem `json:"databases"`
}

// StatusItem is one target of a status response.
type StatusItem struct {
	CheckedAt *time.Time     `json:"checked_at"`
	Details   map[string]any `json:"details"`
	Error     string         `json:"error"`
	ErrorKind string         `json:"error_kind"`
	LatencyMS float64        `json:"latency_ms"`
	Name      string         `json:"name"`
	Reason    string         `json:"reason"`
	Since     *time.Time     `json:"since"`
	State     string         `json:"state"`
	Type      string         `json:"type"`
}

// Alerts is the body of GET /api/database/alerts.
type Alerts struct {
	Alerts []Alert `json:"alerts"`
}

// Alert is one entry of GET /api/database/alerts.
type Alert struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Reason     string     `json:"reason"`
	ResolvedAt *time.Time `json:"resolved_at"`
	Severity   string     `json:"severity"`
	StartedAt  time.Time  `json:"started_at"`
	State      string     `json:"state"`
	Type       string     `json:"type"`
}

// String is "<id> <type>/<name> <severity> <state>".
func (a Alert) String() string {
	return fmt.Sprintf("%s %s/%s %s %s", a.ID, a.Type, a.Name, a.Severity, a.State)
}

// History is the body of GET /api/database/history/{database_type}.
type History struct {
	Items []HistoryItem `json:"items"`
	Next  string        `json:"next"`
}

// HistoryItem is one check of a history page.
type HistoryItem struct {
	CheckedAt time.Time `json:"checked_at"`
	Error     string    `json:"error"`
	ErrorKind string    `json:"error_kind"`
	LatencyMS float64   `json:"latency_ms"`
	Name      string    `json:"name"`
	Prober    string    `json:"prober"`
	State     string    `json:"state"`
	Type      string    `json:"type"`
}

// Error is the body of every error response.
type Error struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}
