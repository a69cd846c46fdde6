package service

import (
	"context"
	"errors"

	"github.com/dbhealth/database-service/lifecycle"
)

// Run runs every component until ctx ends, then stops them in order,
// each step bounded and all within SHUTDOWN_TIMEOUT: deregister, stop
// probing, drain HTTP, stop consumers, flush the relay, close the
// publisher, close the store.
func (a *Replica) Run(ctx context.Context) error {
	l := lifecycle.New(a.log, a.cfg.Service.ShutdownTimeout)
	// The gateway stops sending traffic before anything else stops.
	l.Add(lifecycle.Step{Name: "registry", Run: a.reg.Run})
	l.Add(
		lifecycle.Step{Name: "targets", Run: a.targets.Run},
		lifecycle.Step{Name: "nacos clients", Stop: func(context.Context) error { a.reg.Close(); return nil }},
		lifecycle.Step{Name: "scheduler", Run: a.sched.Run},
		lifecycle.Step{Name: "probes", Run: a.mgr.Run},
		lifecycle.Step{Name: "http", Run: a.serveHTTP},
		lifecycle.Step{Name: "live stream", Run: func(ctx context.Context) error {
			return a.live.BindChecked(ctx, func(ctx context.Context, on bool) error {
				return a.bus.BindReplica(ctx, liveGroup, liveCheckedBinding, on)
			}, func(err error) { a.log.Warn("live stream binding", "err", err) })
		}},
		lifecycle.Step{Name: "consumers", Run: a.bus.Run},
		lifecycle.Step{Name: "alert delivery", Run: a.delivery.Run},
		lifecycle.Step{Name: "relay", Run: a.store.Relay},
		lifecycle.Step{Name: "publisher", Stop: func(context.Context) error { return a.bus.Close() }},
		lifecycle.Step{Name: "store", Stop: func(context.Context) error { return errors.Join(a.store.Close(), a.delivery.Close()) }},
	)
	return l.Run(ctx)
}

// serveHTTP serves the API until ctx ends, then drains it.
func (a *Replica) serveHTTP(ctx context.Context) error {
	if a.ln != nil {
		return a.api.Serve(ctx, a.ln)
	}
	return a.api.Run(ctx)
}
