package notify

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// LocalLog is the notification log of standalone mode: one process, so a
// mutex makes every operation atomic; entries live in memory and in a
// Pebble database in a directory, every change synced before it returns.
// Claims and leases do not survive a restart (the process that held them
// is gone): a claimed entry is due again at once. A target's transitions
// are kept until Prune finds the last one older than TransitionTTL, as
// RedisLog's keys expire.
type LocalLog struct {
	db  *pebble.DB
	now func() time.Time

	mu      sync.Mutex
	entries map[string]Entry
	trans   map[string][]projections.Transition // target subject -> transitions
	leases  map[string]leaseRec
	gone    map[string]string // receiver name -> GoneMark (JSON)
}

type leaseRec struct {
	owner string
	until time.Time
}

// Keys of the LocalLog's Pebble database.
const (
	localEntry = 'n' // 'n' id -> Entry (JSON)
	localTrans = 't' // 't' subject 0 epoch:seq -> projections.Transition (JSON)
	localGone  = 'g' // 'g' receiver name -> GoneMark (JSON)
)

// OpenLocalLog opens (creating it) the log in directory dir. now is the
// clock, nil meaning time.Now; logger receives Pebble's messages (its
// info lines at debug), nil discards them.
func OpenLocalLog(dir string, now func() time.Time, logger *slog.Logger) (*LocalLog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("notify: log: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := pebble.Open(dir, &pebble.Options{FormatMajorVersion: pebble.FormatNewest, Logger: pebbleLog{logger}})
	if err != nil {
		return nil, fmt.Errorf("notify: log: open %s: %w", dir, err)
	}
	if now == nil {
		now = time.Now
	}
	l := &LocalLog{db: db, now: now, entries: map[string]Entry{}, trans: map[string][]projections.Transition{}, leases: map[string]leaseRec{}, gone: map[string]string{}}
	if err := l.load(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return l, nil
}

// pebbleLog sends Pebble's messages to slog.
type pebbleLog struct{ l *slog.Logger }

func (p pebbleLog) Infof(format string, args ...any) {
	p.l.Debug("notification log: " + fmt.Sprintf(format, args...))
}
func (p pebbleLog) Errorf(format string, args ...any) {
	p.l.Error("notification log: " + fmt.Sprintf(format, args...))
}
func (p pebbleLog) Fatalf(format string, args ...any) {
	p.l.Error("notification log: fatal: " + fmt.Sprintf(format, args...))
	os.Exit(1)
}

func (l *LocalLog) load() error {
	it, err := l.db.NewIter(nil)
	if err != nil {
		return fmt.Errorf("notify: log: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		switch k[0] {
		case localEntry:
			var e Entry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("notify: log: entry %q: %w", k[1:], err)
			}
			if e.Owner != "" {
				// The claim was this process's, which stopped: due now.
				e.Owner, e.NextAt = "", l.now()
			}
			l.entries[e.Notification.ID] = e
		case localTrans:
			var t struct {
				Subject string
				T       projections.Transition
			}
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("notify: log: transition %q: %w", k[1:], err)
			}
			l.trans[t.Subject] = append(l.trans[t.Subject], t.T)
		case localGone:
			l.gone[string(k[1:])] = string(v)
		}
	}
	return it.Error()
}

// Close closes the database.
func (l *LocalLog) Close() error { return l.db.Close() }

// put persists e; the caller holds mu.
func (l *LocalLog) put(e Entry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("notify: log: %w", err)
	}
	if err := l.db.Set(append([]byte{localEntry}, e.Notification.ID...), b, pebble.Sync); err != nil {
		return fmt.Errorf("notify: log: %w", err)
	}
	l.entries[e.Notification.ID] = e
	return nil
}

// Claim implements Log.
func (l *LocalLog) Claim(_ context.Context, n Notification, owner string, lease time.Duration) (Claim, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.entries[n.ID]
	if !ok {
		e = Entry{Notification: n, State: EntryPending, NextAt: now, UpdatedAt: now}
	}
	if e.State != EntryPending || e.NextAt.After(now) {
		return Claim{}, false, nil
	}
	claimed := e
	e.Owner, e.NextAt, e.UpdatedAt = owner, now.Add(lease), now
	if err := l.put(e); err != nil {
		return Claim{}, false, err
	}
	return Claim{Entry: claimed, Until: e.NextAt}, true, nil
}

// Record implements Log.
func (l *LocalLog) Record(_ context.Context, id, owner string, o Outcome) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.entries[id]
	switch {
	case !ok:
		return ErrNotFound
	case e.State != EntryPending || e.Owner != owner:
		return ErrNotOwner
	}
	state, next, err := outcomeState(o)
	if err != nil {
		return err
	}
	e.State, e.Owner, e.Attempts, e.LastOutcome, e.LastError, e.UpdatedAt = state, "", o.Attempts, o.Kind, o.Error, now
	if state == EntryPending {
		e.NextAt = next
	}
	return l.put(e)
}

// outcomeState is the state an outcome leaves an entry in and, when
// pending, its next attempt time.
func outcomeState(o Outcome) (EntryState, time.Time, error) {
	switch o.Kind {
	case OutcomeDelivered:
		return EntryDelivered, time.Time{}, nil
	case OutcomeRetry, OutcomeHeld:
		return EntryPending, o.At, nil
	case OutcomeFailed, OutcomeDisabled:
		return EntryFailed, time.Time{}, nil
	case OutcomeSuppressed:
		return EntrySuppressed, time.Time{}, nil
	}
	return "", time.Time{}, fmt.Errorf("notify: log: unknown outcome %q", o.Kind)
}

// List implements Log.
func (l *LocalLog) List(_ context.Context, state EntryState, limit int) ([]Entry, error) {
	if !state.Valid() {
		return nil, fmt.Errorf("notify: log: unknown state %q", state)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	key := func(e Entry) time.Time { return e.UpdatedAt }
	if state == EntryPending {
		key = func(e Entry) time.Time { return e.NextAt }
	}
	return l.selectEntries(func(e Entry) bool { return e.State == state }, key, limit), nil
}

// Due implements Log.
func (l *LocalLog) Due(_ context.Context, now time.Time, limit int) ([]Entry, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.selectEntries(func(e Entry) bool { return e.State == EntryPending && !e.NextAt.After(now) },
		func(e Entry) time.Time { return e.NextAt }, limit), nil
}

// Pending is the number of pending entries.
func (l *LocalLog) Pending(context.Context) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.entries {
		if e.State == EntryPending {
			n++
		}
	}
	return n, nil
}

// selectEntries is up to limit entries matching keep, ordered by key then id;
// the caller holds mu.
func (l *LocalLog) selectEntries(keep func(Entry) bool, key func(Entry) time.Time, limit int) []Entry {
	var out []Entry
	for _, e := range l.entries {
		if keep(e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if c := key(a).Compare(key(b)); c != 0 {
			return c
		}
		return cmp.Compare(a.Notification.ID, b.Notification.ID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// Retry implements Log.
func (l *LocalLog) Retry(_ context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.entries[id]
	switch {
	case !ok:
		return ErrNotFound
	case e.State != EntryFailed:
		return ErrNotFailed
	}
	now := l.now()
	e.State, e.Attempts, e.NextAt, e.UpdatedAt, e.LastOutcome = EntryPending, 0, now, now, "requeued"
	return l.put(e)
}

// Lease implements Leaser.
func (l *LocalLog) Lease(_ context.Context, key, owner string, ttl time.Duration) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for k, r := range l.leases {
		if !r.until.After(now) {
			delete(l.leases, k)
		}
	}
	if _, held := l.leases[key]; held {
		return false, nil
	}
	l.leases[key] = leaseRec{owner: owner, until: now.Add(ttl)}
	return true, nil
}

// Transitions implements TransitionLog.
func (l *LocalLog) Transitions(_ context.Context, s events.StateChanged) ([]projections.Transition, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	subj := s.Target.Subject()
	t := projections.TransitionOf(s.Epoch, s.Seq, s.From, s.To, s.At, s.Reason)
	if !slices.ContainsFunc(l.trans[subj], func(x projections.Transition) bool { return x.Epoch == t.Epoch && x.Seq == t.Seq }) {
		b, err := json.Marshal(struct {
			Subject string
			T       projections.Transition
		}{subj, t})
		if err != nil {
			return nil, fmt.Errorf("notify: log: %w", err)
		}
		key := append(append([]byte{localTrans}, subj...), 0)
		key = append(key, strconv.FormatInt(s.Epoch, 10)+":"+strconv.FormatInt(s.Seq, 10)...)
		if err := l.db.Set(key, b, pebble.Sync); err != nil {
			return nil, fmt.Errorf("notify: log: %w", err)
		}
		l.trans[subj] = append(l.trans[subj], t)
	}
	return slices.Clone(l.trans[subj]), nil
}

var (
	_ Log           = (*LocalLog)(nil)
	_ Leaser        = (*LocalLog)(nil)
	_ TransitionLog = (*LocalLog)(nil)
)
