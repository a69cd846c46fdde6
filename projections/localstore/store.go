// Package localstore is the store of standalone mode: one process runs the
// domain rules of package projections (the transition state machine,
// incident derivation, rollups) over in-memory state and persists it in
// DATA_DIR with Pebble (the LSM key-value store of CockroachDB), written
// in batches.
//
// It plays both roles the shared Redis plays for a fleet: the
// coordinator's (Claim, Apply: slots, fencing, debounce, seq and epochs,
// an outbox of transitions) and the read models' (status, history,
// rollups, alerts). Apply projects each check and transition into the
// read models in the same step, so the read models never lag the state
// machine and one commit persists both; the outbox carries the
// transitions to the in-process bus (live streams, alert delivery) once
// they are on disk.
//
// # Durability
//
// Changes are committed by a flusher: every Options.FlushInterval (1s),
// and at once after a transition, a removal or a read that needs the disk
// (history, metrics). Every commit is synced (the write-ahead log is
// fsynced). A transition is published only after the commit that holds
// it, so what the bus carried survives a crash. A SIGKILL or power loss
// can lose what was applied after the last commit: at most about
// FlushInterval of checks (history entries, the last check of a status,
// rollup counts, debounce counters); never a transition that was
// published, an alert, an epoch or a seq.
//
// # Memory
//
// Pebble reads with pread into a block cache of fixed size and buffers
// writes in bounded memtables, so the process's memory does not grow with
// the history on disk (a memory-mapped B-tree's would: every page a
// commit touches stays resident).
package localstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// Defaults of Options.
const (
	DefaultFlushInterval = time.Second
	DefaultSweepInterval = time.Minute
	// DirName is the store's directory in DATA_DIR.
	DirName = "store"
	// cacheSize is Pebble's block cache and memTableSize its memtable.
	cacheSize    = 8 << 20
	memTableSize = 4 << 20
)

// tombstoneTTL is how long events older than a Forget are dropped.
const tombstoneTTL = 24 * time.Hour

// ErrLocked is returned by Open when another process holds the store.
var ErrLocked = errors.New("localstore: the store is in use by another process")

// Options tune a Store. Zero values take the defaults.
type Options struct {
	// Replica is the prober id recorded in checks (REPLICA_ID).
	Replica string
	// Source is the CloudEvents source of the transitions the relay
	// publishes.
	Source string
	// OnChecked, when set, receives the checks each Apply recorded (to
	// publish them as HealthChecked events); it must not block.
	OnChecked func([]events.HealthChecked)
	// HistoryMaxEntries bounds each target's history (HISTORY_MAX_ENTRIES).
	HistoryMaxEntries int
	// HistoryRetention drops history entries older than this
	// (HISTORY_RETENTION).
	HistoryRetention time.Duration
	// AlertRetention is how long resolved alerts are kept (ALERT_RETENTION).
	AlertRetention time.Duration
	// OutboxLimit caps the outbox (OUTBOX_MAX_LENGTH); nil: no cap.
	OutboxLimit *projections.OutboxLimit
	// FlushInterval is the longest applied changes wait for a commit.
	FlushInterval time.Duration
	// SweepInterval is how often retention is enforced on disk.
	SweepInterval time.Duration
	// Now is the clock (time.Now); tests inject one.
	Now func() time.Time
	// Logger receives flush failures; nil discards.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	o.HistoryMaxEntries, o.HistoryRetention, o.AlertRetention =
		projections.RetentionOrDefaults(o.HistoryMaxEntries, o.HistoryRetention, o.AlertRetention)
	if o.FlushInterval <= 0 {
		o.FlushInterval = DefaultFlushInterval
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// Store is the embedded store. It is safe for concurrent use.
type Store struct {
	db   *pebble.DB
	dir  string
	opts Options
	log  *slog.Logger

	mu sync.Mutex // guards everything below
	st state
	pd *pending
	// flushing is the pending set being committed (nil when none): not in
	// pd any more, not on disk yet.
	flushing *pending

	flushMu sync.Mutex // serialises commits
	kick    chan struct{}
	outbox  chan struct{} // signalled when outbox entries became durable
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

// Open opens (creating it if needed) the store in dir/DirName, loads its
// state and starts the flusher. It fails with ErrLocked when another
// process has the store open.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	path := filepath.Join(dir, DirName)
	if err := os.MkdirAll(path, 0o700); err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	cache := pebble.NewCache(cacheSize)
	defer cache.Unref()
	db, err := pebble.Open(path, &pebble.Options{
		Cache:              cache,
		MemTableSize:       memTableSize,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{opts.Logger},
	})
	if err != nil {
		if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "lock") {
			return nil, fmt.Errorf("%w: %s", ErrLocked, path)
		}
		return nil, fmt.Errorf("localstore: open %s: %w", path, err)
	}
	s := &Store{
		db: db, dir: path, opts: opts, log: opts.Logger,
		st: newState(), pd: newPending(),
		kick: make(chan struct{}, 1), outbox: make(chan struct{}, 1),
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	if err := s.load(); err != nil {
		_ = db.Close()
		return nil, err
	}
	go s.flusher()
	return s, nil
}

// Path is the store's directory.
func (s *Store) Path() string { return s.dir }

// pebbleLogger sends Pebble's messages to slog (its info lines at debug).
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug("store: " + fmt.Sprintf(format, args...))
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error("store: " + fmt.Sprintf(format, args...))
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error("store: fatal: " + fmt.Sprintf(format, args...))
	os.Exit(1)
}

// Ping reports whether the store can be written: nil unless the last
// commit failed.
func (s *Store) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.flushErr
}

// Close commits what is pending and closes the file. It is idempotent.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		close(s.stop)
		<-s.done
		err = errors.Join(s.flush(), s.db.Close())
	})
	return err
}

// flusher commits every FlushInterval, when kicked, and sweeps retention.
func (s *Store) flusher() {
	defer close(s.done)
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	sweep := time.NewTicker(s.opts.SweepInterval)
	defer sweep.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		case <-s.kick:
		case <-sweep.C:
			s.sweep()
		}
		if err := s.flush(); err != nil {
			s.log.Error("store commit failed; retrying", "err", err)
		}
	}
}

// putTransition applies sc with apply under the lock and asks for a commit
// now: a transition reaches the disk without waiting for the next flush.
func (s *Store) putTransition(sc events.StateChanged, apply func(events.StateChanged)) error {
	s.mu.Lock()
	apply(sc)
	s.mu.Unlock()
	s.kickFlush()
	return nil
}

// kickFlush asks the flusher for a commit now.
func (s *Store) kickFlush() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// flush commits everything pending in one transaction. On failure the
// changes stay pending and the next flush tries again.
func (s *Store) flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	pd := s.pd
	if pd.empty() {
		s.mu.Unlock()
		return nil
	}
	s.pd, s.flushing = newPending(), pd
	s.mu.Unlock()
	err := s.commit(pd.write)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushing = nil
	if err != nil {
		s.pd = pd.merge(s.pd)
		s.st.flushErr = fmt.Errorf("localstore: commit: %w", err)
		return s.st.flushErr
	}
	s.st.flushErr = nil
	s.evictRollupsLocked()
	if pd.outboxTop > s.st.durableOutbox {
		s.st.durableOutbox = pd.outboxTop
		select {
		case s.outbox <- struct{}{}:
		default:
		}
	}
	return nil
}

// commit writes one synced batch.
func (s *Store) commit(fill func(*pebble.Batch) error) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := fill(b); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// now is the store's clock in Unix ms.
func (s *Store) now() int64 { return s.opts.Now().UnixMilli() }

// checkRetention is the oldest slot the history keeps at now.
func (s *Store) historyCutoff() int64 {
	return s.opts.Now().Add(-s.opts.HistoryRetention).UnixMilli()
}

// The store serves every projection.
var (
	_ projections.StatusStore  = (*Store)(nil)
	_ projections.HistoryStore = (*Store)(nil)
	_ projections.AlertStore   = (*Store)(nil)
)
