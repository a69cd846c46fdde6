package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// transitions generates what the coordinator emits for one target: the
// transitions projections.Decide makes of random observations, over one to
// three epochs (the coordinator lost its state in between).
func transitions(r *rand.Rand, target events.TargetRef, base int64) []events.StateChanged {
	states := []string{projections.StateUp, projections.StateDegraded, projections.StateDown}
	th := projections.Thresholds{Failure: 1 + r.IntN(3), Success: 1 + r.IntN(3)}
	var out []events.StateChanged
	at := base
	for range 1 + r.IntN(3) {
		m := projections.NewMachine(at)
		cur := states[r.IntN(3)]
		for slot := int64(1); slot < int64(10+r.IntN(50)); slot++ {
			if r.IntN(3) == 0 {
				cur = states[r.IntN(3)]
			}
			at += 1000
			var st projections.Step
			m, st = projections.Decide(m, projections.Observation{Slot: slot, State: cur, At: at, Reason: "saw " + cur}, th)
			if st.Moved {
				out = append(out, changed(target, m.Epoch, st.Seq, st.From, st.To, at))
			}
		}
		at += 5000
	}
	return out
}

// deliveries is the transitions in a random order, some of them twice.
func deliveries(r *rand.Rand, scs []events.StateChanged) []events.StateChanged {
	out := slices.Clone(scs)
	for _, sc := range scs {
		if r.IntN(3) == 0 {
			out = append(out, sc)
		}
	}
	// Mostly in order, with local reordering (what a requeue does) or
	// fully shuffled.
	if r.IntN(2) == 0 {
		r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	} else {
		for i := range out {
			j := min(len(out)-1, i+r.IntN(4))
			out[i], out[j] = out[j], out[i]
		}
	}
	return out
}

// summary renders alerts comparably, sorted by id.
func summary(as []projections.Alert) []string {
	out := []string{}
	for _, a := range as {
		r := "-"
		if a.ResolvedAt != nil {
			r = fmt.Sprint(a.ResolvedAt.UnixMilli())
		}
		out = append(out, fmt.Sprintf("%s %s %s %q %d %s %s", a.ID, a.State, a.Severity, a.Reason, a.StartedAt.UnixMilli(), r, a.End))
	}
	slices.Sort(out)
	return out
}

// testAlertsFollowIncidents delivers generated transitions, reordered and
// redelivered, to the store and compares its alerts after every delivery
// with projections.Incidents over the transitions delivered so far (the
// Redis alert script computes them incrementally); some targets are then
// removed (projections.ResolveRemoved) and their transitions redelivered,
// which must change nothing.
func testAlertsFollowIncidents(t *testing.T, be Backend) {
	ctx := context.Background()
	compared := 0
	for batch := range 100 {
		fx := newFixture(t, be, Options{})
		for n := range 20 {
			seq := batch*20 + n
			r := rand.New(rand.NewPCG(uint64(seq), 7))
			target := ref("postgres", fmt.Sprint("t", seq))
			base := fx.clock.Now().Add(-time.Hour).UnixMilli()
			scs := transitions(r, target, base)
			var log []projections.Transition
			of := func() []string {
				all, err := fx.store.Alerts(ctx, projections.AlertQuery{Limit: 1000})
				if err != nil {
					t.Fatal(err)
				}
				var mine []projections.Alert
				for _, a := range all {
					if a.Name == target.Name {
						mine = append(mine, a)
					}
				}
				return summary(mine)
			}
			for i, sc := range deliveries(r, scs) {
				if err := fx.store.RecordTransition(ctx, sc); err != nil {
					t.Fatal(err)
				}
				log = append(log, projections.TransitionOf(sc.Epoch, sc.Seq, sc.From, sc.To, sc.At, sc.Reason))
				want := summary(projections.Incidents(target.Type, target.Name, log))
				if got := of(); !slices.Equal(got, want) {
					t.Fatalf("sequence %d, delivery %d (%s): store\n%q\nIncidents\n%q", seq, i, sc.ID(), got, want)
				}
				compared++
			}
			if r.IntN(2) == 0 {
				if err := fx.store.Forget(ctx, target.Type, target.Name); err != nil {
					t.Fatal(err)
				}
				want := summary(projections.ResolveRemoved(projections.Incidents(target.Type, target.Name, log), fx.clock.Now()))
				for _, sc := range deliveries(r, scs)[:len(scs)/2] {
					if err := fx.store.RecordTransition(ctx, sc); err != nil {
						t.Fatal(err)
					}
				}
				if got := of(); !slices.Equal(got, want) {
					t.Fatalf("sequence %d after removal: store\n%q\nResolveRemoved\n%q", seq, got, want)
				}
			}
		}
	}
	t.Logf("%d deliveries agree", compared)
}
