package projections

// The transition state machine: how a target's observed states become its
// stable state. It is pure; the stores execute it (the Redis apply script
// in shared mode, localstore in standalone mode) and a differential test
// proves the Lua follows it step for step.

// Default debounce thresholds.
const (
	DefaultFailureThreshold = 3
	DefaultSuccessThreshold = 2
)

// Thresholds debounce a target's state.
type Thresholds struct {
	// Failure is how many bad observations (DOWN or DEGRADED) in a row
	// leave UP, and how many of another bad state in a row move between
	// DOWN and DEGRADED.
	Failure int
	// Success is how many UP observations in a row come back to UP.
	Success int
}

// WithDefaults returns t with a threshold below 1 replaced by its default.
func (t Thresholds) WithDefaults() Thresholds {
	if t.Failure < 1 {
		t.Failure = DefaultFailureThreshold
	}
	if t.Success < 1 {
		t.Success = DefaultSuccessThreshold
	}
	return t
}

// Machine is the transition state of one target within one epoch.
type Machine struct {
	// Stable is the state last decided (UNKNOWN before the first).
	Stable string
	// Cand is the state a started transition goes to ("" when none) and
	// Count how many observations in a row count towards it.
	Cand  string
	Count int
	// CandReason is the reason of the latest observation of Cand.
	CandReason string
	// Seq counts the transitions of the epoch.
	Seq int64
	// Epoch starts when the machine is created: the store's time in ms.
	Epoch int64
	// LastSlot is the slot of the last applied observation (fencing).
	LastSlot int64
	// Since is when the stable state was entered (ms; 0 before).
	Since int64
}

// NewMachine is the machine of a target the store holds no state for: a
// new epoch starting at epoch (ms).
func NewMachine(epoch int64) Machine { return Machine{Stable: StateUnknown, Epoch: epoch} }

// Observation is one check as the machine sees it.
type Observation struct {
	Slot  int64
	State string // UP, DEGRADED or DOWN
	At    int64  // when it was checked (ms)
	// Reason explains the state ("healthy" for UP).
	Reason string
}

// Step is what one observation did.
type Step struct {
	// Applied is false when the slot was not newer than the last applied
	// one: the observation was fenced off and changed nothing.
	Applied bool
	// Moved is true when the observation completed a transition
	// From -> To, the Seq-th of the epoch; Initial when From is UNKNOWN.
	Moved    bool
	From, To string
	Seq      int64
	Initial  bool
	// Reason is the reason of the latest observation of To.
	Reason string
	// Pending is true while a transition is started but not decided: the
	// scheduler then re-probes soon.
	Pending bool
	// Refused is true when the observation would have completed a
	// transition while the outbox is full (DecideCapped): nothing changed.
	Refused bool
}

// Bad reports whether state is DOWN or DEGRADED.
func Bad(state string) bool { return state == StateDown || state == StateDegraded }

// worse is the more severe of two bad states.
func worse(a, b string) string {
	if a == StateDown || b == StateDown {
		return StateDown
	}
	return StateDegraded
}

// Decide applies o to m under th (defaults applied) and returns the new
// machine and what happened:
//
//   - a slot not newer than m.LastSlot changes nothing;
//   - out of UNKNOWN the first observation decides at once (Initial);
//   - from UP, th.Failure bad observations in a row (DOWN and DEGRADED
//     counted together) move to the worst state among them;
//   - from DOWN or DEGRADED, th.Success UP observations in a row move to
//     UP, and th.Failure observations in a row of the other bad state move
//     to it;
//   - an observation of the stable state resets the count.
//
// A transition carries the reason of the latest observation of the state
// it enters (the worst one, not necessarily the last observation).
func Decide(m Machine, o Observation, th Thresholds) (Machine, Step) {
	th = th.WithDefaults()
	if o.Slot <= m.LastSlot {
		return m, Step{Pending: m.Cand != "", Seq: m.Seq}
	}
	m.LastSlot = o.Slot
	need := th.Failure
	switch {
	case m.Stable == StateUnknown:
		m.Cand, m.Count, need = o.State, 1, 1
	case o.State == m.Stable:
		m.Cand, m.Count = "", 0
	case m.Stable == StateUp: // o is bad
		if Bad(m.Cand) {
			m.Cand, m.Count = worse(m.Cand, o.State), m.Count+1
		} else {
			m.Cand, m.Count = o.State, 1
		}
	default: // stable bad, o is UP or the other bad state
		if o.State == m.Cand {
			m.Count++
		} else {
			m.Cand, m.Count = o.State, 1
		}
		if o.State == StateUp {
			need = th.Success
		}
	}
	switch {
	case m.Cand == "":
		m.CandReason = ""
	case o.State == m.Cand:
		m.CandReason = o.Reason
	}
	st := Step{Applied: true}
	if m.Cand != "" && m.Count >= need {
		st.Moved, st.From, st.To, st.Initial, st.Reason = true, m.Stable, m.Cand, m.Stable == StateUnknown, m.CandReason
		m.Seq++
		m.Stable, m.Cand, m.Count, m.CandReason, m.Since = m.Cand, "", 0, "", o.At
	}
	st.Seq, st.Pending = m.Seq, m.Cand != ""
	return m, st
}

// DecideCapped is Decide under an outbox cap: an observation that would
// complete a transition while the outbox holds max entries or more
// (max > 0) is refused. The machine is left as it was (not even the slot
// moves), nothing is to be appended, and Step says Refused (not Applied):
// the target is probed again, and the transition is made once the outbox
// has drained below max.
func DecideCapped(m Machine, o Observation, th Thresholds, outboxLen, max int64) (Machine, Step) {
	next, st := Decide(m, o, th)
	if st.Moved && max > 0 && outboxLen >= max {
		return m, Step{Refused: true, Pending: m.Cand != "", Seq: m.Seq}
	}
	return next, st
}
