package probes

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// ConnInfo describes a target's client for the connections endpoint: where
// it points and how its pool is doing. It never holds a password.
type ConnInfo struct {
	Kind      Kind      `json:"type"`
	Name      string    `json:"name"`
	Host      string    `json:"host"`
	Port      int       `json:"port"`
	Addresses []string  `json:"addresses,omitempty"`
	Database  string    `json:"database,omitempty"`
	VHost     string    `json:"vhost,omitempty"`
	User      string    `json:"user,omitempty"`
	Connected bool      `json:"connected"`
	Watching  bool      `json:"watching"`
	Pool      PoolStats `json:"pool"`
}

// LostFunc is told that the watched connection of target id was lost.
type LostFunc func(id, reason string)

// Manager owns one long-lived Client per target, opened lazily on the first
// probe, reused by every later probe and closed when the target goes away
// or the manager stops. Clients that implement Watcher are watched while
// Run is active; a lost connection is reported through the LostFunc.
type Manager struct {
	openers map[Kind]Opener
	logger  *slog.Logger
	onLost  LostFunc

	mu      sync.Mutex
	entries map[string]*entry
	runCtx  context.Context // set while Run is active
	closed  bool
}

type entry struct {
	target Target

	mu       sync.Mutex // serialises opening
	client   Client
	stopW    context.CancelFunc
	watching atomic.Bool
	errors   atomic.Int64
	// lastUsed is when the client last probed (Unix ns).
	lastUsed atomic.Int64
}

// idleAfter is how long a client may go unused before it is closed: a
// replica that stops winning a target's probes (another replica has them)
// hands its connections back, and a target whose probes resume opens a
// new client. Three intervals, at least idleMin.
func idleAfter(t Target) time.Duration { return max(3*t.Interval, idleMin) }

// Idle-client sweeping.
const (
	idleMin   = 30 * time.Second
	idleSweep = 10 * time.Second
)

// NewManager returns a manager over the given openers (usually Openers()).
// onLost may be nil.
func NewManager(openers map[Kind]Opener, logger *slog.Logger, onLost LostFunc) *Manager {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if onLost == nil {
		onLost = func(string, string) {}
	}
	return &Manager{openers: openers, logger: logger, onLost: onLost, entries: map[string]*entry{}}
}

// Change summarises what SetTargets did.
type Change struct {
	Added, Removed, Changed []string
}

// SetTargets makes ts the managed set: new targets are added, removed ones
// are closed, and targets whose settings changed get a fresh client. The
// targets are kept with their defaults filled in (Target.WithDefaults).
func (m *Manager) SetTargets(ts []Target) Change {
	var ch Change
	next := byID(ts)
	var toClose []*entry
	m.mu.Lock()
	for id, e := range m.entries {
		t, ok := next[id]
		switch {
		case !ok:
			ch.Removed = append(ch.Removed, id)
			toClose = append(toClose, e)
			delete(m.entries, id)
		case !reflect.DeepEqual(t, e.target):
			ch.Changed = append(ch.Changed, id)
			toClose = append(toClose, e)
			m.entries[id] = &entry{target: t}
		}
	}
	for id, t := range next {
		if _, ok := m.entries[id]; !ok {
			ch.Added = append(ch.Added, id)
			m.entries[id] = &entry{target: t}
		}
	}
	m.mu.Unlock()
	for _, e := range toClose {
		m.closeEntry(e)
	}
	sort.Strings(ch.Added)
	sort.Strings(ch.Removed)
	sort.Strings(ch.Changed)
	return ch
}

// Targets returns the managed targets sorted by id.
func (m *Manager) Targets() []Target {
	m.mu.Lock()
	out := make([]Target, 0, len(m.entries))
	for _, e := range m.entries {
		out = append(out, e.target)
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID() < out[j].ID() })
	return out
}

// ErrUnknownTarget is returned for a target id the manager does not hold.
var ErrUnknownTarget = errors.New("probes: unknown target")

// Probe probes the target with the given id once, opening its client if
// needed. The result's CheckedAt is the probe's start.
func (m *Manager) Probe(ctx context.Context, id string) (Result, error) {
	m.mu.Lock()
	e, ok := m.entries[id]
	m.mu.Unlock()
	if !ok {
		return Result{}, ErrUnknownTarget
	}
	e.lastUsed.Store(time.Now().UnixNano())
	c, err := m.client(ctx, e)
	if err != nil {
		e.errors.Add(1)
		return Judge(e.target, nil, err, 0, time.Now()), nil
	}
	r := RunProbe(ctx, e.target, c)
	if r.ErrorKind != ErrKindNone {
		e.errors.Add(1)
	}
	return r, nil
}

// client returns e's client, opening it (and starting its watcher) once.
func (m *Manager) client(ctx context.Context, e *entry) (Client, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil {
		return e.client, nil
	}
	open, ok := m.openers[e.target.Kind]
	if !ok {
		return nil, errNoOpener(e.target.Kind)
	}
	c, err := open(ctx, e.target)
	if err != nil {
		return nil, err
	}
	e.client = c
	m.mu.Lock()
	runCtx := m.runCtx
	m.mu.Unlock()
	if runCtx != nil {
		m.startWatchLocked(runCtx, e)
	}
	return c, nil
}

// startWatchLocked starts e's watcher; e.mu must be held.
func (m *Manager) startWatchLocked(ctx context.Context, e *entry) {
	w, ok := e.client.(Watcher)
	if !ok || e.stopW != nil {
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	e.stopW = cancel
	id := e.target.ID()
	e.watching.Store(true)
	go func() {
		defer e.watching.Store(false)
		w.Watch(wctx, func(reason string) {
			m.logger.Warn("connection lost", "target", id, "reason", reason)
			m.onLost(id, reason)
		})
	}()
}

// Run enables watchers until ctx is done, then closes every client.
func (m *Manager) Run(ctx context.Context) error {
	m.mu.Lock()
	m.runCtx = ctx
	es := make([]*entry, 0, len(m.entries))
	for _, e := range m.entries {
		es = append(es, e)
	}
	m.mu.Unlock()
	for _, e := range es {
		e.mu.Lock()
		if e.client != nil {
			m.startWatchLocked(ctx, e)
		}
		e.mu.Unlock()
	}
	t := time.NewTicker(idleSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return m.Close()
		case <-t.C:
			m.closeIdle(time.Now())
		}
	}
}

// closeIdle closes the clients unused for longer than idleAfter.
func (m *Manager) closeIdle(now time.Time) {
	m.mu.Lock()
	var idle []*entry
	for _, e := range m.entries {
		if now.Sub(time.Unix(0, e.lastUsed.Load())) > idleAfter(e.target) {
			idle = append(idle, e)
		}
	}
	m.mu.Unlock()
	n := 0
	for _, e := range idle {
		e.mu.Lock()
		if e.client != nil && now.Sub(time.Unix(0, e.lastUsed.Load())) > idleAfter(e.target) {
			if e.stopW != nil {
				e.stopW()
				e.stopW = nil
			}
			_ = e.client.Close()
			e.client = nil
			n++
		}
		e.mu.Unlock()
	}
	if n > 0 {
		m.logger.Debug("idle clients closed", "count", n)
	}
}

// Close closes every client. The manager can no longer be used.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	es := make([]*entry, 0, len(m.entries))
	for _, e := range m.entries {
		es = append(es, e)
	}
	m.entries = map[string]*entry{}
	m.mu.Unlock()
	var errs []error
	for _, e := range es {
		errs = append(errs, m.closeEntry(e))
	}
	return errors.Join(errs...)
}

func (m *Manager) closeEntry(e *entry) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopW != nil {
		e.stopW()
		e.stopW = nil
	}
	if e.client == nil {
		return nil
	}
	err := e.client.Close()
	e.client = nil
	return err
}

// Connections describes every target's client, sorted by id.
func (m *Manager) Connections() []ConnInfo {
	m.mu.Lock()
	es := make([]*entry, 0, len(m.entries))
	for _, e := range m.entries {
		es = append(es, e)
	}
	m.mu.Unlock()
	out := make([]ConnInfo, 0, len(es))
	for _, e := range es {
		t := e.target
		ci := ConnInfo{
			Kind: t.Kind, Name: t.Name, Host: t.Host, Port: t.Port, Addresses: t.Addresses,
			Database: t.Database, VHost: t.VHost, User: t.Username, Watching: e.watching.Load(),
		}
		if t.Kind == Redis {
			ci.Database = strconv.Itoa(t.DB)
		}
		e.mu.Lock()
		if e.client != nil {
			ci.Connected = true
			ci.Pool = e.client.Stats()
		}
		e.mu.Unlock()
		ci.Pool.Errors += e.errors.Load()
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	return out
}
