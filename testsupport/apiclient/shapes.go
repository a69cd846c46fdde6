// Package apiclient holds the REST API's response shapes as another
// program reads them. Tests decode responses into these types, declared
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
	Type      string         `json:"type"`
	Name      string         `json:"name"`
	State     string         `json:"state"`
	Since     *time.Time     `json:"since"`
	CheckedAt *time.Time     `json:"checked_at"`
	LatencyMS float64        `json:"latency_ms"`
	Details   map[string]any `json:"details"`
	ErrorKind string         `json:"error_kind"`
	Error     string         `json:"error"`
	Reason    string         `json:"reason"`
}

// Alerts is the body of GET /api/database/alerts.
type Alerts struct {
	Alerts []Alert `json:"alerts"`
}

// Alert is one entry of GET /api/database/alerts.
type Alert struct {
	ID         string     `json:"id"`
	Type       string     `json:"type"`
	Name       string     `json:"name"`
	Severity   string     `json:"severity"`
	State      string     `json:"state"`
	Reason     string     `json:"reason"`
	StartedAt  time.Time  `json:"started_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
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
	Type      string    `json:"type"`
	Name      string    `json:"name"`
	State     string    `json:"state"`
	CheckedAt time.Time `json:"checked_at"`
	LatencyMS float64   `json:"latency_ms"`
	ErrorKind string    `json:"error_kind"`
	Error     string    `json:"error"`
	Prober    string    `json:"prober"`
}

// Error is the body of every error response.
type Error struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}
