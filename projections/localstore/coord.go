package localstore

import (
	"context"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
)

// Claim wins every due probe (one process probes everything) with a slot
// from the store's clock: the wall clock in ms, but always above every
// slot issued before, across restarts too. It implements probes.Claimer.
func (s *Store) Claim(_ context.Context, due []probes.Due) ([]probes.Claim, error) {
	s.mu.Lock()
	slot := max(s.now(), s.st.clock+1)
	s.st.clock, s.pd.clock = slot, slot
	s.mu.Unlock()
	out := make([]probes.Claim, len(due))
	for i := range out {
		out[i] = probes.Claim{Won: true, Slot: slot}
	}
	return out, nil
}

// Apply runs each check through its target's state machine
// (projections.Decide) and projects it at once: the check into the status
// and the history, a transition into the status and the alerts and onto
// the outbox. A check about a target removed after the check started is
// dropped. A check that would add a transition to a full outbox
// (Options.OutboxLimit) is refused: nothing changes, it is neither
// projected nor handed to OnChecked, and its Outcome says Refused. It
// implements probes.Sink; checks is what OnChecked then receives.
func (s *Store) Apply(_ context.Context, checks []probes.Check) ([]probes.Outcome, error) {
	out := make([]probes.Outcome, len(checks))
	applied := make([]events.HealthChecked, 0, len(checks))
	moved := false
	refused, length := 0, int64(0)
	limit := s.opts.OutboxLimit
	defer func() {
		if moved {
			limit.Admitted()
		}
		limit.Refused(refused, length)
	}()
	s.mu.Lock()
	for i, c := range checks {
		t := c.Result.Target
		id := t.ID()
		hc := c.HealthChecked(s.opts.Replica)
		if s.tombstonedLocked(id, c.Slot) {
			continue
		}
		m, ok := s.st.machines[id]
		if !ok {
			m = projections.NewMachine(max(s.now(), s.st.clock))
		}
		at := c.Result.CheckedAt.UnixMilli()
		th := projections.Thresholds{Failure: t.FailureThreshold, Success: t.SuccessThreshold}
		n := int64(len(s.st.out))
		m, st := projections.DecideCapped(m, projections.Observation{Slot: c.Slot, State: string(c.Result.State), At: at, Reason: c.Reason()}, th,
			n, limit.Max())
		out[i].Pending, out[i].Bad, out[i].Refused = st.Pending, projections.Bad(m.Stable), st.Refused
		if st.Refused {
			refused, length = refused+1, n
		}
		if !st.Applied {
			continue
		}
		s.st.machines[id] = m
		s.pd.machines[id] = ptr(m)
		s.putCheckLocked(hc)
		if err := s.appendCheckLocked(hc); err != nil {
			s.log.Error("history of a check not recorded", "target", id, "err", err)
		}
		applied = append(applied, hc)
		if st.Moved {
			sc := events.StateChanged{Target: hc.Target, From: st.From, To: st.To, Reason: st.Reason, Seq: st.Seq,
				Epoch: m.Epoch, At: time.UnixMilli(at).UTC(), Initial: st.Initial, Check: hc}
			s.putTransitionLocked(sc)
			s.recordTransitionLocked(sc)
			s.enqueueLocked(sc)
			moved = true
		}
	}
	s.mu.Unlock()
	if moved {
		s.kickFlush()
	}
	if s.opts.OnChecked != nil && len(applied) > 0 {
		s.opts.OnChecked(applied)
	}
	return out, nil
}

// machine is target id's transition state (tests).
func (s *Store) machine(id string) (projections.Machine, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.st.machines[id]
	return m, ok
}
