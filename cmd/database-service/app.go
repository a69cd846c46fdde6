package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/config/logging"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/events/coord"
	"github.com/dbhealth/database-service/probes"
)

// appOptions are the knobs tests turn; production uses the zero value.
type appOptions struct {
	// Openers replaces the probe drivers (tests use fakes).
	Openers map[probes.Kind]probes.Opener
	// Registry receives the metrics; nil means a fresh registry.
	Registry *prometheus.Registry
	// RelayClaimIdle overrides how long a dead replica's outbox entries
	// wait before another replica publishes them.
	RelayClaimIdle time.Duration
}

// app is one replica: every component, wired.
type app struct {
	cfg     *config.Config
	log     *slog.Logger
	reg     *prometheus.Registry
	store   *coord.Store
	bus     *bus.Bus
	mgr     *probes.Manager
	sched   *probes.Scheduler
	applier *coord.Applier
	relay   *coord.Relay
	started time.Time
}

// source is the CloudEvents source of every event of this service.
func (a *app) source() string { return "/" + a.cfg.Service.Name }

// newApp connects to the store and the bus and builds every component. On
// error everything opened so far is closed.
func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger, opts appOptions) (_ *app, err error) {
	if cfg.Bus.Embedded() && !cfg.Store.Embedded() {
		return nil, errors.New("BUS_URL is empty (embedded in-process bus) but STORE_URL is shared: " +
			"other replicas would claim probes whose events this process alone sees; set BUS_URL too, or unset STORE_URL")
	}
	a := &app{cfg: cfg, log: log, reg: opts.Registry, started: time.Now()}
	if a.reg == nil {
		a.reg = prometheus.NewRegistry()
	}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.store, err = coord.OpenStore(ctx, cfg.Store.URL)
	if err != nil {
		return nil, err
	}
	a.bus, err = bus.New(ctx, bus.Config{
		URL:         cfg.Bus.URL,
		Exchange:    cfg.Bus.Exchange,
		ServiceName: cfg.Service.Name,
		ReplicaID:   cfg.Service.ReplicaID,
		Registerer:  a.reg,
	}, log)
	if err != nil {
		return nil, err
	}
	openers := opts.Openers
	if openers == nil {
		openers = probes.Openers()
	}
	replica := cfg.Service.ReplicaID
	prefix := cfg.Store.KeyPrefix
	a.applier = coord.NewApplier(a.store.Client, prefix, replica, a.source(), a.bus, log.With("component", "apply"))
	claimer := coord.NewClaimer(a.store.Client, prefix, replica)
	// The scheduler and the manager point at each other (a lost connection
	// triggers a probe): the manager reports through a func set below.
	var sched *probes.Scheduler
	a.mgr = probes.NewManager(openers, log.With("component", "probes"), func(id, _ string) {
		sched.Trigger(id, probes.TriggerWatch)
	})
	sched = probes.NewScheduler(a.mgr, claimer, a.applier, probes.SchedulerOptions{
		Concurrency:   cfg.Probe.Concurrency,
		RetryInterval: cfg.Probe.RetryInterval,
		Logger:        log.With("component", "scheduler"),
	})
	a.sched = sched
	a.relay = coord.NewRelay(a.store.Client, prefix, replica, a.source(), a.bus, coord.RelayOptions{ClaimIdle: opts.RelayClaimIdle}, log.With("component", "relay"))
	a.setTargets(cfg.Targets())
	return a, nil
}

// setTargets makes ts the probed set, in the manager and the scheduler.
func (a *app) setTargets(ts []probes.Target) {
	ch := a.mgr.SetTargets(ts)
	a.sched.SetTargets(ts)
	a.log.Info("targets set", "count", len(ts), "added", ch.Added, "removed", ch.Removed, "changed", ch.Changed)
}

// run runs every component until ctx ends, then stops them in order.
func (a *app) run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.bus.Run(gctx) })
	g.Go(func() error { return a.mgr.Run(gctx) })
	g.Go(func() error { return a.sched.Run(gctx) })
	g.Go(func() error { return a.relay.Run(gctx) })
	err := g.Wait()
	a.close()
	return err
}

// close releases the bus and the store.
func (a *app) close() {
	if a.bus != nil {
		if err := a.bus.Close(); err != nil {
			a.log.Warn("closing bus", "err", err)
		}
	}
	if a.store != nil {
		if err := a.store.Close(); err != nil {
			a.log.Warn("closing store", "err", err)
		}
	}
}

// serve runs the service until ctx ends.
func serve(ctx context.Context, cfg *config.Config, stderr io.Writer) int {
	logOpts := cfg.LoggingOptions()
	logOpts.Console = stderr
	log, closer, err := logging.New(logOpts)
	if err != nil {
		fmt.Fprintln(stderr, "logging:", err)
		return exitConfig
	}
	defer closer.Close()
	a, err := newApp(ctx, cfg, log, appOptions{})
	if err != nil {
		log.Error("start-up failed", "err", err)
		return exitFail
	}
	log.Info("database-service started", "version", version, "replica", cfg.Service.ReplicaID,
		"port", cfg.Service.Port, "bus_embedded", cfg.Bus.Embedded(), "store_embedded", cfg.Store.Embedded())
	if err := a.run(ctx); err != nil {
		log.Error("stopped with error", "err", err)
		return exitFail
	}
	log.Info("database-service stopped")
	return exitOK
}

// relayPendingOf reports how many transitions replica holds unpublished
// (-1 when the store cannot tell).
func (a *app) relayPendingOf(ctx context.Context, replica string) int64 {
	n, err := a.relay.PendingOf(ctx, replica)
	if err != nil {
		return -1
	}
	return n
}
