package api

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// DatabaseStatus is one target in the status responses.
// Fields are in reading order: the state and why, then the last check
// (when, by which replica, how fast, its facts and error).
type DatabaseStatus struct {
	Type  string `json:"type"`
	Name  string `json:"name"`
	State string `json:"state"`
	// Reason explains the current state (from the last transition).
	Reason    string     `json:"reason"`
	Since     *time.Time `json:"since"`
	CheckedAt *time.Time `json:"checked_at"`
	// Prober is the replica that made the last check.
	Prober    string          `json:"prober"`
	LatencyMS float64         `json:"latency_ms"`
	Details   json.RawMessage `json:"details"`
	ErrorKind string          `json:"error_kind"`
	Error     string          `json:"error"`
	// Projected is false while the state shown is the coordinator's
	// decision that the read models have not received yet (the bus is
	// down or behind).
	Projected bool `json:"projected"`
}

// StatusResponse is the body of GET /api/database/status and
// /status/{database_type}.
type StatusResponse struct {
	Overall   string           `json:"overall"`
	Databases []DatabaseStatus `json:"databases"`
}

// stateOf is a target's state, UNKNOWN when the read model has none.
func stateOf(s projections.TargetStatus) string {
	if events.State(s.State).Valid() {
		return s.State
	}
	return string(events.StateUnknown)
}

// databaseStatus is the API view of one target's status.
func databaseStatus(s projections.TargetStatus) DatabaseStatus {
	details := events.DetailsOrEmpty(s.Details)
	return DatabaseStatus{
		Type: s.Type, Name: s.Name, State: stateOf(s),
		Since: s.Since, CheckedAt: s.CheckedAt, LatencyMS: s.LatencyMS,
		Details: details, ErrorKind: s.ErrorKind, Error: s.Error, Reason: s.Reason, Prober: s.Prober,
		Projected: s.Projected,
	}
}

// overall is the worst state among ts: DOWN if any target is DOWN, else
// DEGRADED if any is DEGRADED, else UP if any was checked UP, else UNKNOWN
// (no targets, or none checked yet).
func overall(ts []projections.TargetStatus) string {
	worst := events.StateUnknown
	for _, s := range ts {
		if st := events.State(stateOf(s)); st.Rank() > worst.Rank() {
			worst = st
		}
	}
	return string(worst)
}

// getStatus serves GET /api/database/status.
func (s *Server) getStatus(c echo.Context) error {
	if s.status == nil {
		return notConfigured("the status read model")
	}
	snap, err := s.status.get(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, snap.body())
}

// getStatusOfKind serves GET /api/database/status/{database_type}.
func (s *Server) getStatusOfKind(c echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	if s.status == nil {
		return notConfigured("the status read model")
	}
	snap, err := s.status.get(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSONBlob(http.StatusOK, snap.kindBody(kind))
}
