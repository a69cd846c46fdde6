package main

import (
	"context"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/events/coord"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/projections/localstore"
	redisstore "github.com/dbhealth/database-service/projections/redisstore"
)

// readModels is what the API and the reconciliation read and write.
type readModels interface {
	projections.StatusStore
	projections.HistoryStore
	projections.AlertStore
	projections.CheckStore
	Statuses(ctx context.Context) ([]projections.TargetStatus, error)
	History(ctx context.Context, q projections.HistoryQuery) (projections.HistoryPage, error)
	Alerts(ctx context.Context, q projections.AlertQuery) ([]projections.Alert, error)
	AllMetrics(ctx context.Context) ([]projections.TargetMetrics, error)
	Firing(ctx context.Context) (int, error)
	Forget(ctx context.Context, kind, name string) error
	Targets(ctx context.Context) ([]events.TargetRef, error)
}

// storeSide is one replica's store: the coordination (claims, apply,
// outbox) and the read models, in the shared Redis of STORE_URL or in the
// embedded file of DATA_DIR.
type storeSide struct {
	claimer probes.Claimer
	sink    probes.Sink
	models  readModels
	// relay publishes the outbox until ctx ends.
	relay  func(ctx context.Context) error
	outbox func(ctx context.Context) (int64, error)
	ping   func(ctx context.Context) error
	close  func() error
	// forget removes a target from the read models and the coordination.
	forget func(ctx context.Context, kind, name string) error
	// projected is true when bus consumers build the read models (shared
	// mode); the embedded store projects as it applies.
	projected bool
	// sharedRelay is the Redis outbox relay (nil when embedded).
	sharedRelay *coord.Relay
	// decided reads the coordinator's record of the targets (shared mode;
	// nil when the store projects as it applies).
	decided func(ctx context.Context, ts []probes.Target) ([]projections.Decided, error)
}

// openStore opens the store side: shared with STORE_URL, embedded without.
func (a *app) openStore(ctx context.Context, opts appOptions) (*storeSide, error) {
	cfg := a.cfg
	replica, prefix := cfg.Service.ReplicaID, cfg.Store.KeyPrefix
	if !cfg.Store.URL.IsSet() {
		st, err := localstore.Open(cfg.Service.DataDir, localstore.Options{
			Replica:           replica,
			Source:            a.source(),
			HistoryMaxEntries: cfg.History.MaxEntries,
			HistoryRetention:  cfg.History.Retention,
			AlertRetention:    cfg.Alerts.Retention,
			OutboxLimit:       a.outboxLimit,
			Logger:            a.log.With("component", "store"),
			OnChecked:         a.publishChecks,
		})
		if err != nil {
			return nil, err
		}
		a.log.Info("embedded store open", "path", st.Path())
		return &storeSide{
			claimer: st, sink: st, models: st, outbox: st.OutboxLen, ping: st.Ping, close: st.Close, forget: st.Forget,
			relay: func(ctx context.Context) error { return st.RunRelay(ctx, a.bus) },
		}, nil
	}
	rs, err := coord.OpenStore(ctx, cfg.Store.URL)
	if err != nil {
		return nil, err
	}
	proj, err := redisstore.New(rs.Client, redisstore.Options{
		Prefix:            prefix,
		HistoryMaxEntries: int64(cfg.History.MaxEntries),
		HistoryRetention:  cfg.History.Retention,
		AlertRetention:    cfg.Alerts.Retention,
	})
	if err != nil {
		_ = rs.Close()
		return nil, err
	}
	claimIdle := cfg.Store.OutboxClaimIdle
	if opts.RelayClaimIdle != 0 {
		claimIdle = opts.RelayClaimIdle
	}
	relay := coord.NewRelay(rs.Client, prefix, replica, a.source(), a.bus,
		coord.RelayOptions{ClaimIdle: claimIdle}, a.log.With("component", "relay"))
	applier := coord.NewApplier(rs.Client, prefix, replica, a.source(), a.bus, a.outboxLimit, a.log.With("component", "apply"))
	return &storeSide{
		claimer: coord.NewClaimer(rs.Client, prefix, replica),
		sink:    applier,
		decided: applier.Decided,
		forget: func(ctx context.Context, kind, name string) error {
			if err := applier.Forget(ctx, kind+"/"+name); err != nil {
				return err
			}
			return proj.Forget(ctx, kind, name)
		},
		models:      proj,
		relay:       relay.Run,
		outbox:      relay.Len,
		ping:        rs.Ping,
		close:       rs.Close,
		projected:   true,
		sharedRelay: relay,
	}, nil
}

// publishChecks publishes checks the embedded store applied as
// HealthChecked events (best effort). In process their only consumer is
// the live stream: without a client asking for them they are not even
// encoded.
func (a *app) publishChecks(hs []events.HealthChecked) {
	if a.live == nil || !a.live.WantsChecked() {
		return
	}
	for _, h := range hs {
		env, err := events.NewHealthChecked(a.source(), h)
		if err != nil {
			a.log.Error("encode HealthChecked", "err", err)
			continue
		}
		a.bus.PublishAsync(env)
	}
}

// liveStatus is the status the API serves in shared mode: the read model,
// brought up to the coordinator's decisions for the configured targets
// (projections.Overlay), so that a bus outage does not freeze the states
// the API shows.
type liveStatus struct {
	models  readModels
	decided func(ctx context.Context, ts []probes.Target) ([]projections.Decided, error)
	targets func() []probes.Target
}

// Statuses implements api.StatusReader.
func (l liveStatus) Statuses(ctx context.Context) ([]projections.TargetStatus, error) {
	st, err := l.models.Statuses(ctx)
	if err != nil {
		return nil, err
	}
	d, err := l.decided(ctx, l.targets())
	if err != nil {
		return nil, err
	}
	return projections.Overlay(st, d), nil
}
