package coord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
)

// Publisher publishes events and returns only once the broker confirmed
// them all (or with an error).
type Publisher interface {
	Publish(ctx context.Context, envs ...events.Envelope) error
}

// RelayOptions tune a Relay. Zero values take the defaults.
type RelayOptions struct {
	// Group is the outbox consumer group shared by all replicas ("relay").
	Group string
	// Batch is how many entries are read and published at once (100).
	Batch int64
	// Block is how long a read waits for new entries (1s).
	Block time.Duration
	// ClaimIdle is how long an entry stays pending with a (dead) replica
	// before another replica takes it over (10s).
	ClaimIdle time.Duration
	// Backoff after a failure (DefaultRelayBackoff).
	Backoff time.Duration
	// Repeated, when set, is told of the entries that will be published
	// again although they may have reached the broker: those of a batch
	// whose publish or acknowledgement failed, and those reclaimed.
	Repeated func(n int)
}

// DefaultRelayBackoff is the relay's wait after a failed publish.
const DefaultRelayBackoff = 500 * time.Millisecond

// Relay publishes the outbox: every replica reads it through one consumer
// group, publishes with confirms, then acknowledges and deletes the
// entries. Entries left pending by a dead replica are reclaimed. Delivery
// is at least once: consumers are idempotent by event id.
type Relay struct {
	rdb     redis.UniversalClient
	keys    Keys
	replica string
	source  string
	pub     Publisher
	opts    RelayOptions
	log     *slog.Logger

	lastWarn   time.Time // of the last failure logged
	suppressed int       // failures not logged since
}

// NewRelay returns a Relay for replica, publishing through pub.
func NewRelay(rdb redis.UniversalClient, prefix, replica, source string, pub Publisher, opts RelayOptions, log *slog.Logger) *Relay {
	if opts.Group == "" {
		opts.Group = "relay"
	}
	if opts.Batch <= 0 {
		opts.Batch = 100
	}
	if opts.Block <= 0 {
		opts.Block = time.Second
	}
	if opts.ClaimIdle <= 0 {
		opts.ClaimIdle = 10 * time.Second
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultRelayBackoff
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Relay{rdb: rdb, keys: Keys{prefix}, replica: replica, source: source, pub: pub, opts: opts, log: log}
}

// Len is the number of transitions not yet published and acknowledged.
func (r *Relay) Len(ctx context.Context) (int64, error) {
	return r.rdb.XLen(ctx, r.keys.Outbox()).Result()
}

// Run relays until ctx is done. Failures are logged and retried; nothing
// is acknowledged before the broker confirmed it.
func (r *Relay) Run(ctx context.Context) error {
	lastClaim := time.Time{}
	ownPending := true // first drain what this replica id left pending
	for ctx.Err() == nil {
		if err := r.ensureGroup(ctx); err != nil {
			r.pause(ctx, "outbox group", err)
			continue
		}
		var msgs []redis.XMessage
		var err error
		switch {
		case ownPending:
			msgs, err = r.read(ctx, "0", 0)
			if err == nil && len(msgs) == 0 {
				ownPending = false
				continue
			}
		case time.Since(lastClaim) >= r.opts.ClaimIdle/2:
			lastClaim = time.Now()
			msgs, _, err = r.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
				Stream: r.keys.Outbox(), Group: r.opts.Group, Consumer: r.replica,
				MinIdle: r.opts.ClaimIdle, Start: "0-0", Count: r.opts.Batch,
			}).Result()
			if err == nil && len(msgs) > 0 {
				r.log.Info("reclaimed outbox entries", "count", len(msgs))
				r.repeated(len(msgs))
			}
		default:
			msgs, err = r.read(ctx, ">", r.opts.Block)
		}
		if err != nil {
			if strings.HasPrefix(err.Error(), "NOGROUP") {
				continue // the store lost the group: ensureGroup recreates it
			}
			r.pause(ctx, "outbox read", err)
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		if err := r.publish(ctx, msgs); err != nil {
			r.repeated(len(msgs))
			ownPending = true // retry them from our pending list
			r.pause(ctx, "outbox publish", err)
		}
	}
	return nil
}

func (r *Relay) ensureGroup(ctx context.Context) error {
	err := r.rdb.XGroupCreateMkStream(ctx, r.keys.Outbox(), r.opts.Group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	return nil
}

func (r *Relay) read(ctx context.Context, start string, block time.Duration) ([]redis.XMessage, error) {
	if block == 0 {
		block = -1 // no BLOCK argument
	}
	res, err := r.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
		Group: r.opts.Group, Consumer: r.replica, Streams: []string{r.keys.Outbox(), start},
		Count: r.opts.Batch, Block: block,
	}).Result()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []redis.XMessage
	for _, s := range res {
		out = append(out, s.Messages...)
	}
	return out, nil
}

// publish sends the entries as StateChanged events, then acks and deletes
// them. Malformed entries are acked and logged (never retried forever).
func (r *Relay) publish(ctx context.Context, msgs []redis.XMessage) error {
	envs := make([]events.Envelope, 0, len(msgs))
	ids := make([]string, 0, len(msgs))
	for _, m := range msgs {
		ids = append(ids, m.ID)
		if m.Values == nil { // deleted while pending
			continue
		}
		sc, err := transitionFromEntry(m.Values)
		if err != nil {
			r.log.Error("dropping malformed outbox entry", "id", m.ID, "err", err)
			continue
		}
		env, err := events.NewStateChanged(r.source, sc)
		if err != nil {
			r.log.Error("dropping unencodable outbox entry", "id", m.ID, "err", err)
			continue
		}
		envs = append(envs, env)
	}
	if len(envs) > 0 {
		if err := r.pub.Publish(ctx, envs...); err != nil {
			return fmt.Errorf("publish %d transitions: %w", len(envs), err)
		}
	}
	pipe := r.rdb.Pipeline()
	pipe.XAck(ctx, r.keys.Outbox(), r.opts.Group, ids...)
	pipe.XDel(ctx, r.keys.Outbox(), ids...)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("ack %d transitions: %w", len(ids), err)
	}
	return nil
}

func (r *Relay) repeated(n int) {
	if r.opts.Repeated != nil {
		r.opts.Repeated(n)
	}
}

func (r *Relay) pause(ctx context.Context, what string, err error) {
	if ctx.Err() != nil {
		return
	}
	// One line every 10s for a store or broker that stays down.
	if time.Since(r.lastWarn) >= 10*time.Second {
		r.log.Warn(what+" failed; retrying", "err", err, "failures_since_last_line", r.suppressed)
		r.lastWarn, r.suppressed = time.Now(), 0
	} else {
		r.suppressed++
	}
	t := time.NewTimer(r.opts.Backoff)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// PendingOf is the number of outbox entries consumer (a replica id) has
// read but not yet acknowledged.
func (r *Relay) PendingOf(ctx context.Context, consumer string) (int64, error) {
	res, err := r.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{
		Stream: r.keys.Outbox(), Group: r.opts.Group, Start: "-", End: "+", Count: 10000, Consumer: consumer,
	}).Result()
	return int64(len(res)), err
}
