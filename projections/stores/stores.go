// Package stores opens a replica's store: the coordination (claims,
// apply, outbox relay) and the read models, in the shared Redis of
// STORE_URL or in the embedded file of DATA_DIR, behind one shape.
package stores

import (
	"context"
	"log/slog"
	"time"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/projections/coord"
	"github.com/dbhealth/database-service/projections/localstore"
	"github.com/dbhealth/database-service/projections/redisstore"
	"github.com/redis/go-redis/v9"
)

// ReadModels is what the API and the reconciliation read and write.
type ReadModels interface {
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

// Publisher is the bus as the store uses it: transitions with confirms
// (the relay), checks best effort (the shared applier).
type Publisher interface {
	Publish(ctx context.Context, envs ...events.Envelope) error
	PublishAsync(e events.Envelope) bool
}

// Options are what Open needs besides the configuration.
type Options struct {
	// Publisher carries the outbox and the checks.
	Publisher Publisher
	// Source is the CloudEvents source of the events.
	Source string
	// OutboxLimit is OUTBOX_MAX_LENGTH, enforced by either store.
	OutboxLimit *projections.OutboxLimit
	// ClaimIdle, when non-zero, overrides OUTBOX_CLAIM_IDLE.
	ClaimIdle time.Duration
	// WantChecked reports whether the checks the embedded store applies
	// are wanted as HealthChecked events (by the live stream).
	WantChecked func() bool
	Logger      *slog.Logger
}

// Store is one replica's store.
type Store struct {
	Claimer probes.Claimer
	Sink    probes.Sink
	Models  ReadModels
	// Relay publishes the outbox until ctx ends.
	Relay     func(ctx context.Context) error
	OutboxLen func(ctx context.Context) (int64, error)
	Ping      func(ctx context.Context) error
	Close     func() error
	// Forget removes a target from the read models and the coordination.
	Forget func(ctx context.Context, kind, name string) error
	// Projected is true when bus consumers build the read models (shared
	// mode); the embedded store projects as it applies.
	Projected bool
	// SharedRelay is the Redis outbox relay (nil when embedded).
	SharedRelay *coord.Relay
	// Decided reads the coordinator's record of the targets (shared mode;
	// nil when the store projects as it applies).
	Decided func(ctx context.Context, ts []probes.Target) ([]projections.Decided, error)
	// Redis is the shared store's client, for the other state the
	// replicas share under the same key prefix (alert delivery); nil when
	// embedded.
	Redis redis.UniversalClient
}

// Open opens the store: shared with STORE_URL, embedded without.
func Open(ctx context.Context, cfg *config.Config, opts Options) (*Store, error) {
	if !cfg.Store.URL.IsSet() {
		return openEmbedded(cfg, opts)
	}
	replica, prefix := cfg.Service.ReplicaID, cfg.Store.KeyPrefix
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
	if opts.ClaimIdle != 0 {
		claimIdle = opts.ClaimIdle
	}
	relay := coord.NewRelay(rs.Client, prefix, replica, opts.Source, opts.Publisher,
		coord.RelayOptions{ClaimIdle: claimIdle, Repeated: opts.OutboxLimit.Repeated}, opts.Logger.With("component", "relay"))
	applier := coord.NewApplier(rs.Client, prefix, replica, opts.Source, opts.Publisher, opts.OutboxLimit, opts.Logger.With("component", "apply"))
	return &Store{
		Claimer: coord.NewClaimer(rs.Client, prefix, replica),
		Sink:    applier,
		Decided: applier.Decided,
		Forget: func(ctx context.Context, kind, name string) error {
			if err := applier.Forget(ctx, kind+"/"+name); err != nil {
				return err
			}
			return proj.Forget(ctx, kind, name)
		},
		Models:      proj,
		Relay:       relay.Run,
		OutboxLen:   relay.Len,
		Ping:        rs.Ping,
		Close:       rs.Close,
		Projected:   true,
		SharedRelay: relay,
		Redis:       rs.Client,
	}, nil
}

// openEmbedded opens the embedded store of DATA_DIR.
func openEmbedded(cfg *config.Config, opts Options) (*Store, error) {
	st, err := localstore.Open(cfg.Service.DataDir, localstore.Options{
		Replica:           cfg.Service.ReplicaID,
		Source:            opts.Source,
		HistoryMaxEntries: cfg.History.MaxEntries,
		HistoryRetention:  cfg.History.Retention,
		AlertRetention:    cfg.Alerts.Retention,
		OutboxLimit:       opts.OutboxLimit,
		Logger:            opts.Logger.With("component", "store"),
		OnChecked:         func(hs []events.HealthChecked) { publishChecked(opts, hs) },
	})
	if err != nil {
		return nil, err
	}
	opts.Logger.Info("embedded store open", "path", st.Path())
	return &Store{
		Claimer: st, Sink: st, Models: st, OutboxLen: st.OutboxLen, Ping: st.Ping, Close: st.Close, Forget: st.Forget,
		Relay: func(ctx context.Context) error { return st.RunRelay(ctx, opts.Publisher) },
	}, nil
}
