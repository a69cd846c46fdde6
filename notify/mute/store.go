package mute

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"time"
)

// Ack acknowledges an alert: it was notified once and is not reminded.
type Ack struct {
	AlertID string    `json:"alert_id"`
	By      string    `json:"by"`
	Comment string    `json:"comment"`
	At      time.Time `json:"at"`
}

// Validate checks the ack; the error is a *FieldError ("alert_id", "by").
func (a Ack) Validate() error {
	if a.AlertID == "" {
		return fieldErr("alert_id", "required")
	}
	if strings.TrimSpace(a.By) == "" {
		return fieldErr("by", "required")
	}
	return nil
}

// Store keeps silences, API-created windows and acks, shared across
// replicas. Put replaces the record of the same id (an ack's id is its
// alert's). Stores keep what they are given; they do not validate.
type Store interface {
	PutSilence(ctx context.Context, s Silence) error
	Silences(ctx context.Context) ([]Silence, error)
	// ExpireSilence sets EndsAt to now when it was later, and returns the
	// silence; ErrNotFound when the id is unknown.
	ExpireSilence(ctx context.Context, id string, now time.Time) (Silence, error)
	PutWindow(ctx context.Context, w Window) error
	Windows(ctx context.Context) ([]Window, error)
	// DeleteWindow removes a window; ErrNotFound when the id is unknown.
	DeleteWindow(ctx context.Context, id string) error
	PutAck(ctx context.Context, a Ack) error
	// DeleteAck removes the ack of an alert; ErrNotFound when not acked.
	DeleteAck(ctx context.Context, alertID string) error
	Acks(ctx context.Context) (map[string]Ack, error)
}

// NewID is a random, URL-safe id: 16 random bytes in hex.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// expire is s expired at now: EndsAt moves to now when it was later, and
// StartsAt too when the silence had not started, as Alertmanager does.
// It reports whether s changed.
func expire(s Silence, now time.Time) (Silence, bool) {
	if !s.EndsAt.After(now) {
		return s, false
	}
	s.EndsAt = now
	if s.StartsAt.After(now) {
		s.StartsAt = now
	}
	s.UpdatedAt = now
	return s, true
}

// Both stores implement Store.
var (
	_ Store = (*RedisStore)(nil)
	_ Store = (*LocalStore)(nil)
)

// byAlert indexes acks by alert id.
func byAlert(as []Ack, err error) (map[string]Ack, error) {
	if err != nil {
		return nil, err
	}
	out := make(map[string]Ack, len(as))
	for _, a := range as {
		out[a.AlertID] = a
	}
	return out, nil
}
