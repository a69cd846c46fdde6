package main

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/config/source"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/lifecycle"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/probes/reconcile"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/projections/consumers"
	"github.com/dbhealth/database-service/projections/stores"
	"github.com/dbhealth/database-service/registry"
)

// appOptions are the knobs tests turn; production uses the zero value.
type appOptions struct {
	// Openers replaces the probe drivers (tests use fakes).
	Openers map[probes.Kind]probes.Opener
	// Registry receives the metrics; nil means a fresh registry.
	Registry *prometheus.Registry
	// RelayClaimIdle, when non-zero, overrides OUTBOX_CLAIM_IDLE: how long
	// a dead replica's outbox entries wait before another replica publishes
	// them.
	RelayClaimIdle time.Duration
	// Listener serves the API instead of listening on DB_SERVICE_PORT.
	Listener net.Listener
}

// app is one replica: every component, wired.
type app struct {
	cfg  *config.Config
	log  *slog.Logger
	prom *prometheus.Registry
	// observed is the store's sink with the probe metrics.
	observed *probes.ObservedSink
	store    *stores.Store
	// outboxLimit is OUTBOX_MAX_LENGTH, enforced by either store.
	outboxLimit *projections.OutboxLimit
	bus         *bus.Bus
	mgr         *probes.Manager
	sched       *probes.Scheduler
	live        *api.Hub
	api         *api.Server
	targets     *source.Source
	reg         *registry.Registry
	ln          net.Listener
	started     time.Time
}

// roles are what every replica does; all replicas are alike.
var roles = []string{"prober", "relay", "projector", "api"}

// source is the CloudEvents source of every event of this service.
func (a *app) source() string { return "/" + a.cfg.Service.Name }

// newApp connects to the store and the bus and builds every component. On
// error everything opened so far is closed.
func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger, opts appOptions) (_ *app, err error) {
	a := &app{cfg: cfg, log: log, prom: opts.Registry, started: time.Now(), ln: opts.Listener, live: api.NewHub()}
	if a.prom == nil {
		a.prom = prometheus.NewRegistry()
	}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	a.bus, err = bus.New(ctx, bus.Config{
		URL:         cfg.Bus.URL,
		Exchange:    cfg.Bus.Exchange,
		ServiceName: cfg.Service.Name,
		ReplicaID:   cfg.Service.ReplicaID,
		Registerer:  a.prom,
	}, log)
	if err != nil {
		return nil, err
	}
	a.outboxLimit = projections.NewOutboxLimit(int64(cfg.Store.OutboxMaxLength), log.With("component", "outbox"))
	if a.store, err = stores.Open(ctx, cfg, stores.Options{
		Publisher: a.bus, Source: a.source(), OutboxLimit: a.outboxLimit, ClaimIdle: opts.RelayClaimIdle,
		WantChecked: a.live.WantsChecked, Logger: log,
	}); err != nil {
		return nil, err
	}
	if err := a.buildPipeline(opts); err != nil {
		return nil, err
	}
	if err := a.buildProjections(); err != nil {
		return nil, err
	}
	if a.reg, err = newRegistry(cfg, a); err != nil {
		return nil, err
	}
	if err := a.buildAPI(); err != nil {
		return nil, err
	}
	recon := reconcile.New(reconcile.Options{
		Manager: a.mgr, Scheduler: a.sched, Forget: a.store.Forget, Known: a.store.Models.Targets,
		OnRemoved: a.observed.Forget, Logger: log.With("component", "reconcile"),
	})
	a.targets, err = source.New(ctx, cfg, source.Options{
		Watch: a.nacosWatch(), Emit: recon.Set, Registerer: a.prom, Logger: log.With("component", "config"),
	})
	if err != nil {
		return nil, err
	}
	recon.Start(ctx, a.targets.Targets())
	return a, nil
}

// buildPipeline wires probing: manager, scheduler, claims, apply.
func (a *app) buildPipeline(opts appOptions) error {
	cfg := a.cfg
	openers := opts.Openers
	if openers == nil {
		openers = probes.Openers()
		openers[probes.Nacos] = probes.NacosOpener(cfg.Service.DataDir)
	}
	newServiceMetrics(a.prom, a.outboxLimit,
		func(ctx context.Context) (float64, error) { n, err := a.store.OutboxLen(ctx); return float64(n), err },
		func(ctx context.Context) (float64, error) {
			n, err := a.store.Models.Firing(ctx)
			return float64(n), err
		})
	var err error
	if a.observed, err = probes.NewObservedSink(a.store.Sink, a.prom); err != nil {
		return err
	}
	// The scheduler and the manager point at each other (a lost connection
	// triggers a probe): the manager reports through a closure.
	var sched *probes.Scheduler
	a.mgr = probes.NewManager(openers, a.log.With("component", "probes"), func(id, _ string) {
		sched.Trigger(id, probes.TriggerWatch)
	})
	sched = probes.NewScheduler(a.mgr, a.store.Claimer, a.observed, probes.SchedulerOptions{
		Concurrency:     cfg.Probe.Concurrency,
		RetryInterval:   cfg.Probe.RetryInterval,
		RecoveryBackoff: cfg.Probe.RecoveryBackoff,
		Logger:          a.log.With("component", "scheduler"),
	})
	a.sched = sched
	a.prom.MustRegister(sched.Collectors()...)
	return nil
}

// The live group is this replica's own queue for the SSE streams: every
// transition, and checks while a client wants them.
const (
	liveGroup          = "live"
	liveBinding        = "db.health.state_changed.*"
	liveCheckedBinding = "db.health.checked.*"
)

// buildProjections puts each projection on its shared queue (shared mode;
// the embedded store projects as it applies) and the live event stream on
// this replica's own queue.
func (a *app) buildProjections() error {
	if a.store.Projected {
		if err := consumers.Add(a.bus, a.store.Models, a.prom); err != nil {
			return err
		}
	}
	return a.bus.AddReplicaConsumer(liveGroup, []string{liveBinding}, a.live.Handle)
}

// buildAPI builds the HTTP server over the read models and the pipeline.
func (a *app) buildAPI() error {
	cfg := a.cfg
	srv, err := api.New(api.Deps{
		Status:      a.store.Status(a.mgr.Targets),
		History:     a.store.Models,
		Alerts:      a.store.Models,
		Metrics:     api.MetricsReaderFunc(a.store.Models.AllMetrics),
		Connections: a.mgr,
		Tester:      api.ProbeTester{Targets: a.mgr.Targets, TestNow: a.sched.TestNow},
		Config:      api.ConfigViewFunc(a.configInfo),
		Events:      a.live,
		Registry:    registryAPI{a.reg},
		Readiness:   api.ReadinessFunc(a.ready),
		Self: api.SelfHealthFunc(func() api.SelfInfo {
			return api.SelfInfo{ReplicaID: cfg.Service.ReplicaID, Version: version, StartedAt: a.started, Roles: roles}
		}),
	}, api.Options{
		Addr:            net.JoinHostPort("", strconv.Itoa(cfg.Service.Port)),
		APIToken:        cfg.Service.APIToken,
		AuthAll:         cfg.Service.APIAuth == config.AuthAll,
		MetricsPublic:   cfg.Service.MetricsPublic,
		Version:         version,
		ReplicaID:       cfg.Service.ReplicaID,
		Logger:          a.log.With("component", "api"),
		Registerer:      a.prom,
		Gatherer:        a.prom,
		ShutdownTimeout: cfg.Service.ShutdownTimeout,
		Secrets:         cfg.Secrets,
		Profiling:       cfg.Debug,
		// A replica serves without the bus (the coordinator's record in the
		// store tells the states); without the store it cannot.
		ReadyRequires: []string{"store"},
	})
	if err != nil {
		return err
	}
	a.api = srv
	return nil
}

// configInfo is GET /api/database/config.
func (a *app) configInfo() api.ConfigInfo {
	v := a.targets.View()
	return api.ConfigInfo{AppEnv: a.cfg.AppEnv, Version: strconv.Itoa(v.Version), Source: v.Source, AppliedAt: v.AppliedAt, Config: v.Config}
}

// ready checks the bus and the store for GET /health and GET /ready.
func (a *app) ready(ctx context.Context) map[string]error {
	return map[string]error{"bus": a.bus.Check(ctx), "store": a.store.Ping(ctx)}
}

// run runs every component until ctx ends, then stops them in order,
// each step bounded and all within SHUTDOWN_TIMEOUT: deregister, stop
// probing, drain HTTP, stop consumers, flush the relay, close the
// publisher, close the store.
func (a *app) run(ctx context.Context) error {
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
		lifecycle.Step{Name: "relay", Run: a.store.Relay},
		lifecycle.Step{Name: "publisher", Stop: func(context.Context) error { return a.bus.Close() }},
		lifecycle.Step{Name: "store", Stop: func(context.Context) error { return a.store.Close() }},
	)
	return l.Run(ctx)
}

// serveHTTP serves the API until ctx ends, then drains it.
func (a *app) serveHTTP(ctx context.Context) error {
	if a.ln != nil {
		return a.api.Serve(ctx, a.ln)
	}
	return a.api.Run(ctx)
}

// close releases the Nacos clients, the bus and the store of an app that
// never ran.
func (a *app) close() {
	if a.reg != nil {
		a.reg.Close()
	}
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
