// Package service assembles one replica of database-service: the bus, the
// store, probing, projections, the API and the registry, wired together and
// run as an ordered lifecycle. The command in cmd/database-service only reads
// the configuration and calls New and Run; tests build replicas the same way
// (see testsupport/cluster).
package service

import (
	"context"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/config/source"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/probes/reconcile"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/projections/stores"
	"github.com/dbhealth/database-service/registry"
)

// Options are the knobs the command and tests turn; the zero value is
// production with version "dev".
type Options struct {
	// Version is the build version reported by the API and the registry.
	Version string
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

// Replica is one replica: every component, wired.
type Replica struct {
	cfg     *config.Config
	version string
	log     *slog.Logger
	prom    *prometheus.Registry
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
	delivery    *delivery
	reg         *registry.Registry
	ln          net.Listener
	started     time.Time
}

// roles are what every replica does; all replicas are alike.
var roles = []string{"prober", "relay", "projector", "api"}

// source is the CloudEvents source of every event of this service.
func (a *Replica) source() string { return "/" + a.cfg.Service.Name }

// New connects to the store and the bus and builds every component. On
// error everything opened so far is closed.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts Options) (_ *Replica, err error) {
	a := &Replica{cfg: cfg, version: opts.Version, log: log, prom: opts.Registry, started: time.Now(), ln: opts.Listener, live: api.NewHub()}
	if a.version == "" {
		a.version = "dev"
	}
	if a.prom == nil {
		a.prom = prometheus.NewRegistry()
	}
	defer func() {
		if err != nil {
			a.Close()
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
	if a.delivery, err = a.newDelivery(); err != nil {
		return nil, err
	}
	if err := a.buildProjections(); err != nil {
		return nil, err
	}
	if a.reg, err = a.newRegistry(); err != nil {
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
		Watch: a.nacosWatch(), Emit: recon.Set, EmitAlerting: a.delivery.reload, Registerer: a.prom,
		Logger: log.With("component", "config"),
	})
	if err != nil {
		return nil, err
	}
	if err := a.delivery.apply(a.targets.Alerting()); err != nil {
		return nil, err
	}
	recon.Start(ctx, a.targets.Targets())
	return a, nil
}

// Close releases the Nacos clients, the bus and the store of a replica
// that never ran (Run closes them itself).
func (a *Replica) Close() {
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
	if a.delivery != nil {
		if err := a.delivery.Close(); err != nil {
			a.log.Warn("closing the notification log", "err", err)
		}
	}
	if a.ln != nil {
		_ = a.ln.Close()
	}
}
