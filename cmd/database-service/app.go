package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/config/logging"
	"github.com/dbhealth/database-service/config/source"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/lifecycle"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
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
	cfg     *config.Config
	log     *slog.Logger
	prom    *prometheus.Registry
	metrics *serviceMetrics
	store   *storeSide
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
	a := &app{cfg: cfg, log: log, prom: opts.Registry, started: time.Now(), ln: opts.Listener}
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
	if a.store, err = a.openStore(ctx, opts); err != nil {
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
	a.targets, err = source.New(ctx, cfg, source.Options{
		Watch: a.nacosWatch(), Emit: a.setTargets, Registerer: a.prom, Logger: log.With("component", "config"),
	})
	if err != nil {
		return nil, err
	}
	a.setTargets(ctx, a.targets.Targets())
	a.reconcile(ctx, a.targets.Targets())
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
	a.metrics = newServiceMetrics(a.prom, a.outboxLimit,
		func(ctx context.Context) (float64, error) { n, err := a.store.outbox(ctx); return float64(n), err },
		func(ctx context.Context) (float64, error) {
			n, err := a.store.models.Firing(ctx)
			return float64(n), err
		})
	// The scheduler and the manager point at each other (a lost connection
	// triggers a probe): the manager reports through a closure.
	var sched *probes.Scheduler
	a.mgr = probes.NewManager(openers, a.log.With("component", "probes"), func(id, _ string) {
		sched.Trigger(id, probes.TriggerWatch)
	})
	sched = probes.NewScheduler(a.mgr, a.store.claimer,
		observedSink{next: a.store.sink, m: a.metrics}, probes.SchedulerOptions{
			Concurrency:     cfg.Probe.Concurrency,
			RetryInterval:   cfg.Probe.RetryInterval,
			RecoveryBackoff: cfg.Probe.RecoveryBackoff,
			Logger:          a.log.With("component", "scheduler"),
		})
	a.sched = sched
	a.prom.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dbhealth_probes_skipped_total",
			Help: "Scheduled probes skipped because the target's previous probe was still queued or running.",
		}, func() float64 { return float64(sched.Skipped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dbhealth_probe_results_dropped_total",
			Help: "Probe results dropped because their target had left the configuration meanwhile.",
		}, func() float64 { return float64(sched.Dropped()) }))
	return nil
}

// projection is one read-model handler group.
type projection interface {
	Name() string
	Bindings() []string
	Handle(ctx context.Context, e events.Envelope) error
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
	a.live = api.NewHub()
	if !a.store.projected {
		return a.bus.AddReplicaConsumer(liveGroup, []string{liveBinding}, a.live.Handle)
	}
	ck, err := projections.NewChecks(a.store.models)
	if err != nil {
		return err
	}
	if err := a.bus.AddCheckConsumer(ck.Name(), ck.Bindings(), a.metrics.observedBatch(ck.Name(), ck.HandleBatch)); err != nil {
		return fmt.Errorf("projection %s: %w", ck.Name(), err)
	}
	st, err := projections.NewStatus(a.store.models)
	if err != nil {
		return err
	}
	al, err := projections.NewAlerts(a.store.models)
	if err != nil {
		return err
	}
	for _, p := range []projection{st, al} {
		if err := a.bus.AddConsumer(p.Name(), p.Bindings(), a.metrics.observed(p.Name(), p.Handle)); err != nil {
			return fmt.Errorf("projection %s: %w", p.Name(), err)
		}
	}
	return a.bus.AddReplicaConsumer(liveGroup, []string{liveBinding}, a.live.Handle)
}

// buildAPI builds the HTTP server over the read models and the pipeline.
func (a *app) buildAPI() error {
	cfg := a.cfg
	var status api.StatusReader = a.store.models
	if a.store.decided != nil {
		status = liveStatus{models: a.store.models, decided: a.store.decided, targets: a.mgr.Targets}
	}
	srv, err := api.New(api.Deps{
		Status:      status,
		History:     a.store.models,
		Alerts:      a.store.models,
		Metrics:     api.MetricsReaderFunc(a.store.models.AllMetrics),
		Connections: a.mgr,
		Tester:      api.TesterFunc(a.test),
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
	return map[string]error{"bus": a.bus.Check(ctx), "store": a.store.ping(ctx)}
}

// test probes the targets of kind (or the one called name) now, through
// the pipeline, for POST /api/database/connections/test/{type}.
func (a *app) test(ctx context.Context, kind probes.Kind, name string) ([]api.TestResult, error) {
	var ts []probes.Target
	for _, t := range a.mgr.Targets() {
		if t.Kind == kind && (name == "" || t.Name == name) {
			ts = append(ts, t)
		}
	}
	if len(ts) == 0 {
		if name != "" {
			return nil, fmt.Errorf("%w: %s/%s", probes.ErrUnknownTarget, kind, name)
		}
		return []api.TestResult{}, nil
	}
	results, err := a.sched.TestNow(ctx, ts)
	if err != nil {
		return nil, err
	}
	out := make([]api.TestResult, len(results))
	for i, r := range results {
		out[i] = api.TestResult{
			Type: string(r.Target.Kind), Name: r.Target.Name, State: string(r.State),
			LatencyMS: probes.LatencyMS(r.Latency), Details: r.Details,
			ErrorKind: string(r.ErrorKind), Error: r.Error, CheckedAt: r.CheckedAt.UTC(),
		}
	}
	return out, nil
}

// setTargets makes ts the probed set, in the manager and the scheduler, and
// drops the read models of removed targets.
func (a *app) setTargets(ctx context.Context, ts []probes.Target) {
	before := map[string]probes.Target{}
	for _, t := range a.mgr.Targets() {
		before[t.ID()] = t
	}
	ch := a.mgr.SetTargets(ts)
	a.sched.SetTargets(ts)
	for _, id := range ch.Removed {
		t := before[id]
		a.metrics.forget(t)
		a.forget(ctx, string(t.Kind), t.Name)
	}
	a.log.Info("targets set", "count", len(ts), "added", ch.Added, "removed", ch.Removed, "changed", ch.Changed)
}

// forget drops a target that left the configuration from the store: its
// read models (its firing alert resolved as removed) and its transition
// state (a target added again starts a new epoch).
func (a *app) forget(ctx context.Context, kind, name string) {
	fctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.store.forget(fctx, kind, name); err != nil {
		a.log.Warn("forgetting removed target", "target", kind+"/"+name, "err", err)
	}
}

// reconcile forgets what the read models hold of targets the configuration
// no longer has (removed while no replica ran): their alerts are resolved
// as removed and they leave the overall state.
func (a *app) reconcile(ctx context.Context, ts []probes.Target) {
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	known, err := a.store.models.Targets(rctx)
	if err != nil {
		a.log.Warn("reconciling the read models with the configuration", "err", err)
		return
	}
	configured := map[string]bool{}
	for _, t := range ts {
		configured[t.ID()] = true
	}
	for _, k := range known {
		if !configured[k.Subject()] {
			a.log.Info("forgetting a target no longer configured", "target", k.Subject())
			a.forget(ctx, k.Type, k.Name)
		}
	}
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
		lifecycle.Step{Name: "relay", Run: a.store.relay},
		lifecycle.Step{Name: "publisher", Stop: func(context.Context) error { return a.bus.Close() }},
		lifecycle.Step{Name: "store", Stop: func(context.Context) error { return a.store.close() }},
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
		if err := a.store.close(); err != nil {
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
	quietRedisLogger(log)
	a, err := newApp(ctx, cfg, log, appOptions{})
	if err != nil {
		log.Error("start-up failed", "err", err)
		return exitFail
	}
	log.Info("database-service started", "version", version, "replica", cfg.Service.ReplicaID,
		"port", cfg.Service.Port, "bus_embedded", cfg.Bus.Embedded(), "store_embedded", cfg.Store.Embedded())
	// Stopping is bounded by SHUTDOWN_TIMEOUT: a step that does not stop
	// in time is abandoned and reported.
	if err := a.run(ctx); err != nil {
		if errors.Is(err, lifecycle.ErrTimeout) {
			log.Error("shutdown timed out; exiting anyway", "timeout", cfg.Service.ShutdownTimeout, "err", err)
			return exitFail
		}
		log.Error("stopped with error", "err", err)
		return exitFail
	}
	log.Info("database-service stopped")
	return exitOK
}
