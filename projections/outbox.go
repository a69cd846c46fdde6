package projections

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// outboxFullRemind is how often the ERROR line repeats while transitions
// go on being refused.
const outboxFullRemind = time.Minute

// OutboxLimit is the outbox length cap (OUTBOX_MAX_LENGTH) both stores
// enforce when they apply checks (DecideCapped; the Redis apply script
// follows it), and what reaching it records: a count of refused
// transitions and an ERROR line at the first refusal of an episode, then
// every minute while it lasts; the first transition accepted again ends
// the episode. A nil *OutboxLimit is no cap.
type OutboxLimit struct {
	max     int64
	log     *slog.Logger
	now     func() time.Time
	refused atomic.Int64
	// repeated counts transitions handed to the bus again (see Repeated).
	repeated atomic.Int64

	mu       sync.Mutex
	full     bool      // an episode is on
	lastLine time.Time // of the last ERROR line
	since    int64     // refusals since that line
}

// NewOutboxLimit returns the cap max (<= 0: none); log may be nil.
func NewOutboxLimit(max int64, log *slog.Logger) *OutboxLimit {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &OutboxLimit{max: max, log: log, now: time.Now}
}

// Max is the cap (0: none).
func (l *OutboxLimit) Max() int64 {
	if l == nil || l.max < 0 {
		return 0
	}
	return l.max
}

// RefusedTotal is the number of transitions refused so far.
// Repeated counts n transitions a relay hands to the bus again, after a
// publish or acknowledgement that failed or after reclaiming them from a
// replica that stopped: each may reach consumers twice (delivery is at
// least once). Safe on a nil limit.
func (l *OutboxLimit) Repeated(n int) {
	if l != nil {
		l.repeated.Add(int64(n))
	}
}

// RepeatedTotal is the sum of Repeated.
func (l *OutboxLimit) RepeatedTotal() int64 {
	if l == nil {
		return 0
	}
	return l.repeated.Load()
}

func (l *OutboxLimit) RefusedTotal() int64 {
	if l == nil {
		return 0
	}
	return l.refused.Load()
}

// Refused records n transitions refused while the outbox held length
// entries.
func (l *OutboxLimit) Refused(n int, length int64) {
	if l == nil || n <= 0 {
		return
	}
	l.refused.Add(int64(n))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.since += int64(n)
	now := l.now()
	if l.full && now.Sub(l.lastLine) < outboxFullRemind {
		return
	}
	l.log.Error("outbox full: transitions refused until the relay drains it",
		"length", length, "max", l.max, "setting", "OUTBOX_MAX_LENGTH", "refused", l.since, "episode_started", !l.full)
	l.full, l.lastLine, l.since = true, now, 0
}

// Admitted records that a transition was appended again: it ends an
// episode.
func (l *OutboxLimit) Admitted() {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.full {
		return
	}
	l.log.Info("outbox below its cap again; transitions accepted", "max", l.max, "refused_since_last_line", l.since)
	l.full, l.since = false, 0
}
