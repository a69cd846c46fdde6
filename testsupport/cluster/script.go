package cluster

import (
	"context"

	"github.com/dbhealth/database-service/probes"
)

// ScriptedFacts are the facts of a scripted fake target.
type ScriptedFacts struct {
	State probes.State `json:"scripted_state"`
}

// Health is the scripted state, with a reason unless UP.
func (f ScriptedFacts) Health(probes.Limits) (probes.State, string) {
	if f.State == probes.StateUp {
		return probes.StateUp, ""
	}
	return f.State, "scripted " + string(f.State)
}

// scriptClient answers with whatever state its script says now.
type scriptClient struct {
	name  string
	state func(name string) probes.State
	count func(name string)
}

func (c scriptClient) Probe(ctx context.Context) (probes.Facts, error) {
	c.count(c.name)
	return ScriptedFacts{State: c.state(c.name)}, nil
}
func (c scriptClient) Stats() probes.PoolStats { return probes.PoolStats{Open: 1} }
func (c scriptClient) Close() error            { return nil }

// ScriptedOpeners opens scriptClients for every kind.
func ScriptedOpeners(state func(string) probes.State, count func(string)) map[probes.Kind]probes.Opener {
	m := map[probes.Kind]probes.Opener{}
	for _, k := range probes.Kinds {
		m[k] = func(_ context.Context, t probes.Target) (probes.Client, error) {
			return scriptClient{name: t.ID(), state: state, count: count}, nil
		}
	}
	return m
}
