package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
)

// probeTester is the api.Tester over the probing pipeline: Targets lists
// the probed targets (*probes.Manager), TestNow probes some of them now
// (*probes.Scheduler) and feeds the results through the pipeline.
type probeTester struct {
	Targets func() []probes.Target
	TestNow func(ctx context.Context, ts []probes.Target) ([]probes.Result, error)
}

// Test implements api.Tester.
func (p probeTester) Test(ctx context.Context, kind events.Kind, name string) ([]api.TestResult, error) {
	var ts []probes.Target
	for _, t := range p.Targets() {
		if t.Kind == kind && (name == "" || t.Name == name) {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		if name != "" {
			return nil, fmt.Errorf("%w: %s/%s", api.ErrNotFound, kind, name)
		}
		return []api.TestResult{}, nil
	}
	results, err := p.TestNow(ctx, ts)
	if errors.Is(err, probes.ErrUnknownTarget) {
		// Removed by a reload since it was listed.
		return nil, fmt.Errorf("%w: %w", api.ErrNotFound, err)
	}
	if err != nil {
		return nil, err
	}
	out := make([]api.TestResult, len(results))
	for i, r := range results {
		h := r.HealthChecked()
		out[i] = api.TestResult{
			Type: h.Target.Type, Name: h.Target.Name, State: h.State, LatencyMS: h.LatencyMS, Details: h.Details,
			ErrorKind: h.ErrorKind, Error: h.Error, CheckedAt: h.CheckedAt,
		}
	}
	return out, nil
}

// managerConnections lists the manager's clients as the API shows them.
type managerConnections struct{ m *probes.Manager }

// Connections implements api.Connections.
func (mc managerConnections) Connections() []api.Connection {
	infos := mc.m.Connections()
	out := make([]api.Connection, len(infos))
	for i, c := range infos {
		out[i] = api.Connection{
			Type: c.Kind, Name: c.Name, Host: c.Host, Port: c.Port, Addresses: c.Addresses, Database: c.Database,
			VHost: c.VHost, User: c.User, Connected: c.Connected, Watching: c.Watching,
			Pool: api.Pool{Open: c.Pool.Open, Idle: c.Pool.Idle, InUse: c.Pool.InUse, Acquires: c.Pool.Acquires, Errors: c.Pool.Errors},
		}
	}
	return out
}
