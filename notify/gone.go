package notify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// GoneMark records a receiver that answered 410 Gone, shared by every
// replica through the store: the first replica to see the 410 disables
// the receiver for all. It holds for the receiver's endpoint as
// configured then (Fingerprint): a configuration that points the receiver
// elsewhere enables it again, and so does removing the mark (ClearGone,
// the API's enable).
type GoneMark struct {
	Fingerprint string    `json:"fingerprint"`
	Reason      string    `json:"reason"`
	At          time.Time `json:"at"`
}

// GoneStore keeps the GoneMarks by receiver name (RedisLog, LocalLog).
type GoneStore interface {
	MarkGone(ctx context.Context, name string, m GoneMark) error
	GoneMarks(ctx context.Context) (map[string]GoneMark, error)
	// ClearGone removes the mark of receiver name (none is no error).
	ClearGone(ctx context.Context, name string) error
}

// fingerprint identifies where rc delivers: its kind and endpoint (a
// truncated SHA-256, so a Slack URL's token is not kept in clear).
func (rc ReceiverConfig) fingerprint() string {
	parts := []string{string(rc.Kind)}
	switch {
	case rc.Webhook != nil:
		parts = append(parts, rc.Webhook.URL)
	case rc.Alertmanager != nil:
		parts = append(parts, rc.Alertmanager.URLs...)
	case rc.Slack != nil:
		parts = append(parts, rc.Slack.URL.Reveal())
	case rc.Email != nil:
		parts = append(parts, rc.Email.Host, strconv.Itoa(rc.Email.Port))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:12])
}

// Sync makes the disabled receivers those the marks name (a mark whose
// fingerprint is the receiver's), and returns the receivers it disabled
// and enabled. Receivers without a fingerprint are left alone.
func (r *Receivers) Sync(marks map[string]GoneMark) (disabled, enabled []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.all {
		if x.Fingerprint == "" {
			continue
		}
		m, marked := marks[x.Name]
		marked = marked && m.Fingerprint == x.Fingerprint
		_, off := r.disabled[x.Name]
		switch {
		case marked && !off:
			r.disabled[x.Name] = m.Reason
			disabled = append(disabled, x.Name)
		case !marked && off:
			delete(r.disabled, x.Name)
			enabled = append(enabled, x.Name)
		}
	}
	return disabled, enabled
}

// Enable turns receiver name on again here (the caller clears its mark
// for the other replicas).
func (r *Receivers) Enable(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.disabled, name)
}

// MarkGone implements GoneStore: one hash field per receiver.
func (l *RedisLog) MarkGone(ctx context.Context, name string, m GoneMark) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify: log: %w", err)
	}
	if err := l.rdb.HSet(ctx, l.key("gone"), name, b).Err(); err != nil {
		return fmt.Errorf("notify: log: mark gone: %w", err)
	}
	return nil
}

// ClearGone implements GoneStore.
func (l *RedisLog) ClearGone(ctx context.Context, name string) error {
	if err := l.rdb.HDel(ctx, l.key("gone"), name).Err(); err != nil {
		return fmt.Errorf("notify: log: clear gone: %w", err)
	}
	return nil
}

// GoneMarks implements GoneStore.
func (l *RedisLog) GoneMarks(ctx context.Context) (map[string]GoneMark, error) {
	h, err := l.rdb.HGetAll(ctx, l.key("gone")).Result()
	if err != nil {
		return nil, fmt.Errorf("notify: log: gone marks: %w", err)
	}
	return decodeMarks(h)
}

// MarkGone implements GoneStore.
func (l *LocalLog) MarkGone(_ context.Context, name string, m GoneMark) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("notify: log: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.db.Set(append([]byte{localGone}, name...), b, pebble.Sync); err != nil {
		return fmt.Errorf("notify: log: mark gone: %w", err)
	}
	l.gone[name] = string(b)
	return nil
}

// ClearGone implements GoneStore.
func (l *LocalLog) ClearGone(_ context.Context, name string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.db.Delete(append([]byte{localGone}, name...), pebble.Sync); err != nil {
		return fmt.Errorf("notify: log: clear gone: %w", err)
	}
	delete(l.gone, name)
	return nil
}

// GoneMarks implements GoneStore.
func (l *LocalLog) GoneMarks(context.Context) (map[string]GoneMark, error) {
	l.mu.Lock()
	h := make(map[string]string, len(l.gone))
	for k, v := range l.gone {
		h[k] = v
	}
	l.mu.Unlock()
	return decodeMarks(h)
}

func decodeMarks(h map[string]string) (map[string]GoneMark, error) {
	out := make(map[string]GoneMark, len(h))
	for name, v := range h {
		var m GoneMark
		if err := json.Unmarshal([]byte(v), &m); err != nil {
			return nil, fmt.Errorf("notify: log: gone mark of %q: %w", name, err)
		}
		out[name] = m
	}
	return out, nil
}

var (
	_ GoneStore = (*RedisLog)(nil)
	_ GoneStore = (*LocalLog)(nil)
)
