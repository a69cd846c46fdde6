package probes

import (
	"context"
	"fmt"
	"sync/atomic"
)

// Client is a long-lived connection (or pool) to one target, opened once by
// the Manager and reused by every probe of that target.
type Client interface {
	// Probe observes the target once. It returns the facts it could gather;
	// on a failure it returns the error (facts may then be partial or nil).
	// The caller owns the deadline through ctx.
	Probe(ctx context.Context) (Facts, error)
	// Stats reports the client's pool statistics.
	Stats() PoolStats
	// Close releases every connection of the client.
	Close() error
}

// Watcher is implemented by clients that can hold a connection whose loss
// is noticed at once (a pgx idle connection, a Redis pub/sub connection, AMQP
// NotifyClose, gRPC connectivity state, Nacos connection events).
type Watcher interface {
	// Watch blocks until ctx is done, calling lost each time the watched
	// connection is lost (and re-establishing it in between, with backoff).
	// lost must not block.
	Watch(ctx context.Context, lost func(reason string))
}

// PoolStats are the statistics of a target's client, as reported by the
// connections endpoint.
type PoolStats struct {
	Open     int64 `json:"open"`
	Idle     int64 `json:"idle"`
	InUse    int64 `json:"in_use"`
	Acquires int64 `json:"acquires"`
	Errors   int64 `json:"errors"`
}

// probeCounter counts a client's probes (acquires), those running (in
// use) and those that failed, for its PoolStats.
type probeCounter struct {
	inUse, probes, errors atomic.Int64
}

// count runs one probe under the counters.
func count[F any](pc *probeCounter, probe func() (F, error)) (F, error) {
	pc.probes.Add(1)
	pc.inUse.Add(1)
	defer pc.inUse.Add(-1)
	f, err := probe()
	if err != nil {
		pc.errors.Add(1)
	}
	return f, err
}

// stats are the pool statistics of a client with open connections.
func (pc *probeCounter) stats(open int64) PoolStats {
	inUse := pc.inUse.Load()
	return PoolStats{Open: open, Idle: max(open-inUse, 0), InUse: inUse, Acquires: pc.probes.Load(), Errors: pc.errors.Load()}
}

// enterProbe takes sem, the one-probe-at-a-time turn of a client whose
// probes share state, waiting no longer than ctx allows (kind names the
// client in that error), and refuses the probe with errClosed once the
// client is closed. On success the caller gives sem back when its probe
// ends.
func enterProbe(ctx context.Context, sem chan struct{}, kind Kind, closed *atomic.Bool, errClosed error) error {
	select {
	case sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("%s: waiting for the previous probe: %w", kind, ctx.Err())
	}
	if closed.Load() {
		<-sem
		return Fail(ErrKindConfig, errClosed)
	}
	return nil
}

// Opener creates the Client of a target. It must not block longer than ctx
// allows; lazily connecting clients may return at once.
type Opener func(ctx context.Context, t Target) (Client, error)

// Openers maps each kind to its Opener. Tests may build their own map.
func Openers() map[Kind]Opener {
	return map[Kind]Opener{
		Postgres:      OpenPostgres,
		Elasticsearch: OpenElasticsearch,
		Milvus:        OpenMilvus,
		Redis:         OpenRedis,
		Nacos:         OpenNacos,
		RabbitMQ:      OpenRabbitMQ,
	}
}

// errNoOpener is returned for a kind with no Opener.
func errNoOpener(k Kind) error { return Fail(ErrKindConfig, fmt.Errorf("no probe for kind %q", k)) }
