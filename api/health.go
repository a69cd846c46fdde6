package api

import (
	"context"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
)

// Check states of GET /health.
const (
	checkUp   = "UP"
	checkDown = "DOWN"
)

// CheckResult is the state of one dependency in GET /health.
type CheckResult struct {
	Status string `json:"status"`
	// Error is a short, fixed description; the cause is in the log.
	Error string `json:"error,omitempty"`
}

// LivenessResponse is the body of GET /health.
type LivenessResponse struct {
	Status        string                 `json:"status"`
	ReplicaID     string                 `json:"replica_id"`
	Version       string                 `json:"version"`
	UptimeSeconds float64                `json:"uptime_seconds"`
	Checks        map[string]CheckResult `json:"checks"`
}

// KindSummary counts the targets of one kind by state.
type KindSummary struct {
	Type     string `json:"type"`
	State    string `json:"state"`
	Total    int    `json:"total"`
	Up       int    `json:"up"`
	Degraded int    `json:"degraded"`
	Down     int    `json:"down"`
	Unknown  int    `json:"unknown"`
}

// SelfReport is this replica's health in GET /api/database/health.
type SelfReport struct {
	SelfInfo
	UptimeSeconds float64 `json:"uptime_seconds"`
	// Dependencies maps "bus", "store", ... to UP or DOWN (empty when no
	// readiness check is wired).
	Dependencies map[string]string `json:"dependencies"`
}

// HealthResponse is the body of GET /api/database/health.
type HealthResponse struct {
	Overall string        `json:"overall"`
	Targets int           `json:"targets"`
	Kinds   []KindSummary `json:"kinds"`
	Self    SelfReport    `json:"self"`
}

// checkReadiness runs the readiness checks, bounded by HealthTimeout.
func (s *Server) checkReadiness(ctx context.Context) map[string]CheckResult {
	out := map[string]CheckResult{}
	if s.deps.Readiness == nil {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.HealthTimeout)
	defer cancel()
	for name, err := range s.deps.Readiness.Ready(ctx) {
		if err != nil {
			s.opts.Logger.Warn("dependency unreachable", "dependency", name, "err", s.scrub(err))
			out[name] = CheckResult{Status: checkDown, Error: "unreachable"}
			continue
		}
		out[name] = CheckResult{Status: checkUp}
	}
	return out
}

// getLiveness serves GET /health: 200 while every dependency answers, 503
// otherwise.
func (s *Server) getLiveness(c echo.Context) error {
	checks := s.checkReadiness(c.Request().Context())
	body := LivenessResponse{
		Status:        checkUp,
		ReplicaID:     s.opts.ReplicaID,
		Version:       s.opts.Version,
		UptimeSeconds: s.uptime(),
		Checks:        checks,
	}
	status := http.StatusOK
	for _, ch := range checks {
		if ch.Status != checkUp {
			body.Status, status = checkDown, http.StatusServiceUnavailable
		}
	}
	return c.JSON(status, body)
}

// uptime is the time since New, in seconds.
func (s *Server) uptime() float64 {
	return s.opts.Now().Sub(s.self().StartedAt).Seconds()
}

// self describes this replica.
func (s *Server) self() SelfInfo {
	if s.deps.Self != nil {
		info := s.deps.Self.Self()
		if info.StartedAt.IsZero() {
			info.StartedAt = s.started
		}
		if info.Roles == nil {
			info.Roles = []string{}
		}
		return info
	}
	return SelfInfo{ReplicaID: s.opts.ReplicaID, Version: s.opts.Version, StartedAt: s.started, Roles: []string{}}
}

// getHealth serves GET /api/database/health.
func (s *Server) getHealth(c echo.Context) error {
	if s.status == nil {
		return notConfigured("the status read model")
	}
	snap, err := s.status.get(c.Request().Context())
	if err != nil {
		return err
	}
	deps := map[string]string{}
	for name, ch := range s.checkReadiness(c.Request().Context()) {
		deps[name] = ch.Status
	}
	self := s.self()
	body := HealthResponse{
		Overall: overall(snap.statuses),
		Targets: len(snap.statuses),
		Kinds:   summarize(snap.statuses),
		Self: SelfReport{
			SelfInfo:      self,
			UptimeSeconds: s.opts.Now().Sub(self.StartedAt).Seconds(),
			Dependencies:  deps,
		},
	}
	return c.JSON(http.StatusOK, body)
}

// summarize counts targets per kind, in probes.Kinds order; kinds without
// targets are left out.
func summarize(ts []projections.TargetStatus) []KindSummary {
	byKind := map[string]*KindSummary{}
	var order []string
	for _, t := range ts {
		k := byKind[t.Type]
		if k == nil {
			k = &KindSummary{Type: t.Type}
			byKind[t.Type] = k
			order = append(order, t.Type)
		}
		k.Total++
		switch probes.State(stateOf(t)) {
		case probes.StateUp:
			k.Up++
		case probes.StateDegraded:
			k.Degraded++
		case probes.StateDown:
			k.Down++
		default:
			k.Unknown++
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return kindRank(order[i]) < kindRank(order[j]) })
	out := make([]KindSummary, 0, len(order))
	for _, name := range order {
		k := byKind[name]
		switch {
		case k.Down > 0:
			k.State = string(probes.StateDown)
		case k.Degraded > 0:
			k.State = string(probes.StateDegraded)
		case k.Up > 0:
			k.State = string(probes.StateUp)
		default:
			k.State = string(probes.StateUnknown)
		}
		out = append(out, *k)
	}
	return out
}
