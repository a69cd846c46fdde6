package probes

import (
	"context"
	"time"
)

// The scheduler's seams: what it asks of the store (a Claimer, a Sink) and
// of the clients (a Prober), and the values that cross them.

// Trigger says why a probe runs.
type Trigger string

// The reasons a probe runs.
const (
	TriggerSchedule Trigger = "schedule" // the target's interval came round
	TriggerRetry    Trigger = "retry"    // a transition is pending: confirm fast
	TriggerWatch    Trigger = "watch"    // a watcher saw the connection drop
)

// Due is a probe the scheduler wants to run now. Step is the width of the
// claim bucket: the target's interval for scheduled probes, the retry
// interval for the others, so that replicas racing for the same target run
// it once per bucket.
type Due struct {
	Target  Target
	Trigger Trigger
	Step    time.Duration
}

// Claim is a Claimer's answer for one Due: whether this replica won it and
// the slot (Unix milliseconds, from a clock shared by all replicas) that
// orders and fences the resulting check.
type Claim struct {
	Won  bool
	Slot int64
}

// Claimer decides, in one round trip for a whole batch, which due probes
// this replica runs. Manual probes are always won.
type Claimer interface {
	Claim(ctx context.Context, due []Due) ([]Claim, error)
}

// Outcome is what applying a check decided. Pending means a transition is
// started but not yet confirmed: the scheduler re-probes at the retry
// interval until it is decided. Bad means the target's state is DOWN or
// DEGRADED: with SchedulerOptions.RecoveryBackoff it is re-probed sooner
// than its interval, so a recovery is seen within seconds. Refused means
// the check was not applied because it would have added a transition to
// a full outbox (OUTBOX_MAX_LENGTH): like a failed apply, the target is
// probed again at the retry interval, and the transition is made once the
// outbox has drained.
type Outcome struct {
	Pending bool
	Bad     bool
	Refused bool
}

// Sink applies a batch of checks and reports an outcome per check, in order.
type Sink interface {
	Apply(ctx context.Context, checks []Check) ([]Outcome, error)
}

// Prober probes a target by id. *Manager implements it.
type Prober interface {
	Probe(ctx context.Context, id string) (Result, error)
}
