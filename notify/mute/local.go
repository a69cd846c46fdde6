package mute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Key namespaces of LocalStore: a byte, then the id.
const (
	nsSilence = 's'
	nsWindow  = 'w'
	nsAck     = 'a'
)

// LocalStore is the Store of a standalone process: a Pebble database in a
// directory of its own, every write synced. It is safe for concurrent
// use; only one process can open a directory.
type LocalStore struct {
	db *pebble.DB
	mu sync.Mutex // serialises read-modify-writes
}

// OpenLocalStore opens (creating it if needed) the store in dir, which no
// other store may use.
func OpenLocalStore(dir string) (*LocalStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mute: %w", err)
	}
	db, err := pebble.Open(dir, &pebble.Options{
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             pebbleLogger{},
	})
	if err != nil {
		return nil, fmt.Errorf("mute: open %s: %w", dir, err)
	}
	return &LocalStore{db: db}, nil
}

// Close closes the database.
func (l *LocalStore) Close() error { return l.db.Close() }

// PutSilence stores s under s.ID (Status is not kept).
func (l *LocalStore) PutSilence(_ context.Context, s Silence) error {
	s.Status = ""
	return l.put(nsSilence, s.ID, s)
}

// Silences returns every silence, expired ones included.
func (l *LocalStore) Silences(context.Context) ([]Silence, error) {
	return scanAll[Silence](l.db, nsSilence)
}

// ExpireSilence sets the silence's EndsAt to now if it was later.
func (l *LocalStore) ExpireSilence(_ context.Context, id string, now time.Time) (Silence, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var s Silence
	if err := l.get(nsSilence, id, &s); err != nil {
		return Silence{}, err
	}
	s, changed := expire(s, now)
	if changed {
		if err := l.put(nsSilence, id, s); err != nil {
			return Silence{}, err
		}
	}
	s.Status = s.StatusAt(now)
	return s, nil
}

// PutWindow stores w under w.ID.
func (l *LocalStore) PutWindow(_ context.Context, w Window) error {
	return l.put(nsWindow, w.ID, w)
}

// Windows returns every stored window.
func (l *LocalStore) Windows(context.Context) ([]Window, error) {
	return scanAll[Window](l.db, nsWindow)
}

// DeleteWindow removes a window; ErrNotFound when unknown.
func (l *LocalStore) DeleteWindow(_ context.Context, id string) error {
	return l.del(nsWindow, id)
}

// PutAck stores a under a.AlertID.
func (l *LocalStore) PutAck(_ context.Context, a Ack) error {
	return l.put(nsAck, a.AlertID, a)
}

// DeleteAck removes the ack of alertID; ErrNotFound when not acked.
func (l *LocalStore) DeleteAck(_ context.Context, alertID string) error {
	return l.del(nsAck, alertID)
}

// Acks returns every ack by alert id.
func (l *LocalStore) Acks(context.Context) (map[string]Ack, error) {
	return byAlert(scanAll[Ack](l.db, nsAck))
}

func key(ns byte, id string) []byte { return append([]byte{ns}, id...) }

func (l *LocalStore) put(ns byte, id string, v any) error {
	if id == "" {
		return fmt.Errorf("mute: put: empty id")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("mute: put: %w", err)
	}
	if err := l.db.Set(key(ns, id), b, pebble.Sync); err != nil {
		return fmt.Errorf("mute: put: %w", err)
	}
	return nil
}

func (l *LocalStore) get(ns byte, id string, v any) error {
	b, closer, err := l.db.Get(key(ns, id))
	if errors.Is(err, pebble.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mute: get: %w", err)
	}
	defer closer.Close()
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("mute: record %s: %w", id, err)
	}
	return nil
}

func (l *LocalStore) del(ns byte, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, closer, err := l.db.Get(key(ns, id))
	if errors.Is(err, pebble.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("mute: delete: %w", err)
	}
	_ = closer.Close()
	if err := l.db.Delete(key(ns, id), pebble.Sync); err != nil {
		return fmt.Errorf("mute: delete: %w", err)
	}
	return nil
}

// scanAll decodes every value in namespace ns, in key order.
func scanAll[T any](db *pebble.DB, ns byte) ([]T, error) {
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte{ns}, UpperBound: []byte{ns + 1}})
	if err != nil {
		return nil, fmt.Errorf("mute: scan: %w", err)
	}
	out := []T{}
	for ok := it.First(); ok; ok = it.Next() {
		var v T
		if err := json.Unmarshal(it.Value(), &v); err != nil {
			_ = it.Close()
			return nil, fmt.Errorf("mute: record %s: %w", it.Key()[1:], err)
		}
		out = append(out, v)
	}
	if err := it.Close(); err != nil {
		return nil, fmt.Errorf("mute: scan: %w", err)
	}
	return out, nil
}

// pebbleLogger drops Pebble's info lines and sends its errors to slog.
type pebbleLogger struct{}

func (pebbleLogger) Infof(string, ...any) {}
func (pebbleLogger) Errorf(format string, args ...any) {
	slog.Error("mute: store: " + fmt.Sprintf(format, args...))
}
func (pebbleLogger) Fatalf(format string, args ...any) {
	slog.Error("mute: store: fatal: " + fmt.Sprintf(format, args...))
	os.Exit(1)
}
