package notify

import (
	"context"
	"errors"
	"time"
)

// The notification log remembers every notification and what became of
// it, so that each (receiver, alert, state) is delivered exactly once
// across replicas: a notification is claimed by one worker at a time
// under a lease, and a claim whose lease expired (its worker died) can be
// taken over.

// EntryState is where a notification is in the log.
type EntryState string

// The states of a log entry.
const (
	// EntryPending: waiting for its next attempt (or held by a mute, or
	// claimed by a worker under a lease).
	EntryPending EntryState = "pending"
	// EntryDelivered: the receiver accepted it.
	EntryDelivered EntryState = "delivered"
	// EntryFailed: dead-lettered; Retry re-queues it.
	EntryFailed EntryState = "failed"
	// EntrySuppressed: not sent, on purpose: it was muted (silence,
	// maintenance) and the alert resolved meanwhile, or it is the
	// resolution of a muted alert.
	EntrySuppressed EntryState = "suppressed"
)

// Valid reports whether s is one of the three states.
func (s EntryState) Valid() bool {
	return s == EntryPending || s == EntryDelivered || s == EntryFailed || s == EntrySuppressed
}

// OutcomeKind is the result of one attempt, as Record stores it.
type OutcomeKind string

// The outcomes of an attempt; they are also the outcome label of the
// dbhealth_notifications_total metric.
const (
	// OutcomeDelivered: the receiver accepted it; the entry is delivered.
	OutcomeDelivered OutcomeKind = "delivered"
	// OutcomeRetry: a retryable failure; the entry stays pending until At.
	OutcomeRetry OutcomeKind = "retry"
	// OutcomeHeld: muted, not sent; the entry stays pending until At
	// without counting an attempt.
	OutcomeHeld OutcomeKind = "held"
	// OutcomeFailed: a permanent failure or too many attempts; the entry
	// is dead-lettered (failed).
	OutcomeFailed OutcomeKind = "failed"
	// OutcomeDisabled: the receiver answered 410 Gone; the entry is
	// dead-lettered and the receiver disabled.
	OutcomeDisabled OutcomeKind = "disabled"
	// OutcomeSuppressed: muted and no longer worth sending (see
	// EntrySuppressed).
	OutcomeSuppressed OutcomeKind = "suppressed"
)

// Outcome is what Record stores about an attempt.
type Outcome struct {
	Kind OutcomeKind
	// Attempts is the number of attempts made so far, this one included.
	Attempts int
	// At is the time of the next attempt (OutcomeRetry, OutcomeHeld).
	At time.Time
	// Error is why the attempt failed or was held (no secrets: receivers'
	// errors never hold them).
	Error string
}

// Entry is a notification with its delivery state.
type Entry struct {
	Notification Notification `json:"notification"`
	State        EntryState   `json:"state"`
	// Attempts is the number of attempts made.
	Attempts int `json:"attempts"`
	// NextAt is when a pending entry is due: its next attempt, or the end
	// of the lease of the worker that claimed it.
	NextAt time.Time `json:"next_at"`
	// Owner is the worker holding the claim ("" when none).
	Owner string `json:"owner,omitempty"`
	// LastOutcome and LastError describe the last Record.
	LastOutcome OutcomeKind `json:"last_outcome,omitempty"`
	LastError   string      `json:"last_error,omitempty"`
	// UpdatedAt is the time of the last change.
	UpdatedAt time.Time `json:"updated_at"`
}

// Claim is a won claim of a notification.
type Claim struct {
	// Entry is the entry as it was claimed (Attempts made before this
	// claim).
	Entry Entry
	// Until is the end of the lease.
	Until time.Time
}

// Log is the notification log shared by the workers of every replica.
// Implementations: RedisLog (shared mode) and LocalLog (standalone).
type Log interface {
	// Claim claims n for owner under a lease, adding it as pending when
	// the log does not know it yet. It wins (ok) when n is pending, due
	// and not claimed by anyone whose lease runs: the first of many
	// concurrent claimers wins, the others see it taken. A claim whose
	// lease expired can be taken over.
	Claim(ctx context.Context, n Notification, owner string, lease time.Duration) (c Claim, ok bool, err error)
	// Record stores the outcome of owner's attempt at notification id and
	// releases the claim. It fails with ErrNotOwner when owner no longer
	// holds the claim (its lease expired and another worker took it).
	Record(ctx context.Context, id, owner string, o Outcome) error
	// List returns up to limit entries in state: pending ones by next
	// attempt, the others oldest change first.
	List(ctx context.Context, state EntryState, limit int) ([]Entry, error)
	// Retry re-queues failed notification id for an attempt now, with its
	// attempt count reset. ErrNotFound, ErrNotFailed.
	Retry(ctx context.Context, id string) error
	// Due returns up to limit pending entries whose next attempt time is
	// at or before now, or whose claim's lease expired.
	Due(ctx context.Context, now time.Time, limit int) ([]Entry, error)
}

// Leaser takes short leases that make one replica out of many do a
// periodic job (an Alertmanager re-send of one alert in one interval).
type Leaser interface {
	// Lease reports whether owner took key for ttl: true for the first
	// caller while the key is free, false while it is held (by anyone,
	// owner included), so a job guarded by a key runs once per lease.
	Lease(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
}

// Errors of the log.
var (
	ErrNotFound  = errors.New("notify: no such notification")
	ErrNotFailed = errors.New("notify: notification is not failed")
	ErrNotOwner  = errors.New("notify: claim not held by this owner")
)
