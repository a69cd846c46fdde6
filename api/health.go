package api

import (
	"context"
	"net/http"
	"slices"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/events"
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

// LivenessResponse is the body of GET /health and GET /ready.
type LivenessResponse struct {
	// Status is UP while the process runs (GET /health); for GET /ready it
	// is UP when the replica can serve (its required dependencies answer).
	Status string `json:"status"`
	// Ready is true when every dependency the replica needs to serve the
	// read models answers (Options.ReadyRequires).
	Ready         bool                   `json:"ready"`
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
	if s.deps.Ready == nil {
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.HealthTimeout)
	defer cancel()
	for name, err := range s.deps.Ready(ctx) {
		if err != nil {
			s.opts.Logger.Warn("dependency unreachable", "dependency", name, "err", s.scrub(err))
			out[name] = CheckResult{Status: checkDown, Error: "unreachable"}
			continue
		}
		out[name] = CheckResult{Status: checkUp}
	}
	return out
}

// liveness reads the dependencies into a LivenessResponse.
func (s *Server) liveness(ctx context.Context) LivenessResponse {
	checks := s.checkReadiness(ctx)
	body := LivenessResponse{
		Status:        checkUp,
		Ready:         true,
		ReplicaID:     s.opts.ReplicaID,
		Version:       s.opts.Version,
		UptimeSeconds: s.uptime(),
		Checks:        checks,
	}
	for name, ch := range checks {
		if ch.Status != checkUp && s.requires(name) {
			body.Ready = false
		}
	}
	return body
}

// requires reports whether readiness needs dependency name.
func (s *Server) requires(name string) bool {
	if s.opts.ReadyRequires == nil {
		return true
	}
	return slices.Contains(s.opts.ReadyRequires, name)
}

// getLiveness serves GET /health, the liveness probe: 200 while the
// process serves, whatever its dependencies say (they are reported, and
// GET /ready judges them), so a replica never restarts in a loop because
// the broker it watches is down.
func (s *Server) getLiveness(c echo.Context) error {
	return c.JSON(http.StatusOK, s.liveness(c.Request().Context()))
}

// getReady serves GET /ready, the readiness probe: 200 when the replica
// can serve, 503 (same body) when a required dependency does not answer.
func (s *Server) getReady(c echo.Context) error {
	body := s.liveness(c.Request().Context())
	if !body.Ready {
		body.Status = checkDown
		return c.JSON(http.StatusServiceUnavailable, body)
	}
	return c.JSON(http.StatusOK, body)
}

// uptime is the time since New, in seconds.
func (s *Server) uptime() float64 {
	return s.opts.Now().Sub(s.self().StartedAt).Seconds()
}

// self describes this replica.
func (s *Server) self() SelfInfo {
	if s.deps.Self != nil {
		info := s.deps.Self()
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

// summarize counts targets per kind, in events.Kinds order; kinds without
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
		switch events.State(stateOf(t)) {
		case events.StateUp:
			k.Up++
		case events.StateDegraded:
			k.Degraded++
		case events.StateDown:
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
			k.State = string(events.StateDown)
		case k.Degraded > 0:
			k.State = string(events.StateDegraded)
		case k.Up > 0:
			k.State = string(events.StateUp)
		default:
			k.State = string(events.StateUnknown)
		}
		out = append(out, *k)
	}
	return out
}
