package api

import (
	"context"
	"fmt"

	"github.com/dbhealth/database-service/probes"
)

// ProbeTester is the Tester over the probing pipeline: Targets lists the
// probed targets (*probes.Manager), TestNow probes some of them now
// (*probes.Scheduler).
type ProbeTester struct {
	Targets func() []probes.Target
	TestNow func(ctx context.Context, ts []probes.Target) ([]probes.Result, error)
}

// Test implements Tester.
func (p ProbeTester) Test(ctx context.Context, kind probes.Kind, name string) ([]TestResult, error) {
	var ts []probes.Target
	for _, t := range p.Targets() {
		if t.Kind == kind && (name == "" || t.Name == name) {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		if name != "" {
			return nil, fmt.Errorf("%w: %s/%s", probes.ErrUnknownTarget, kind, name)
		}
		return []TestResult{}, nil
	}
	results, err := p.TestNow(ctx, ts)
	if err != nil {
		return nil, err
	}
	out := make([]TestResult, len(results))
	for i, r := range results {
		out[i] = TestResult{
			Type: string(r.Target.Kind), Name: r.Target.Name, State: string(r.State),
			LatencyMS: probes.LatencyMS(r.Latency), Details: r.Details,
			ErrorKind: string(r.ErrorKind), Error: r.Error, CheckedAt: r.CheckedAt.UTC(),
		}
	}
	return out, nil
}
