package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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

// TestAlertScriptFollowsIncidents delivers generated transitions, reordered
// and redelivered, to the alert script on the machine's Redis and compares
// the alerts after every delivery with projections.Incidents over the
// transitions delivered so far; some targets are then removed
// (projections.ResolveRemoved) and their transitions redelivered, which
// must change nothing.
func TestAlertScriptFollowsIncidents(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's Redis")
	}
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	ctx := context.Background()
	compared := 0
	for seq := range 2000 {
		r := rand.New(rand.NewPCG(uint64(seq), 7))
		prefix := fmt.Sprintf("test-proj-diff-%d", rand.Int64())
		st, err := New(rdb, Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		target := ref("postgres", fmt.Sprint("t", seq))
		base := time.Now().Add(-time.Hour).UnixMilli()
		scs := transitions(r, target, base)
		var log []projections.Transition
		for i, sc := range deliveries(r, scs) {
			if err := st.RecordTransition(ctx, sc); err != nil {
				t.Fatal(err)
			}
			log = append(log, projections.TransitionOf(sc.Epoch, sc.Seq, sc.From, sc.To, sc.At, sc.Reason))
			got, err := st.Alerts(ctx, projections.AlertQuery{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			want := projections.Incidents(target.Type, target.Name, log)
			if g, w := summary(got), summary(want); !slices.Equal(g, w) {
				t.Fatalf("sequence %d, delivery %d (%s): script\n%q\nIncidents\n%q", seq, i, sc.ID(), g, w)
			}
			compared++
		}
		if r.IntN(2) == 0 {
			now := time.Now()
			st.opts.Now = func() time.Time { return now }
			if err := st.Forget(ctx, target.Type, target.Name); err != nil {
				t.Fatal(err)
			}
			want := summary(projections.ResolveRemoved(projections.Incidents(target.Type, target.Name, log), now))
			for _, sc := range deliveries(r, scs)[:len(scs)/2] {
				if err := st.RecordTransition(ctx, sc); err != nil {
					t.Fatal(err)
				}
			}
			got, err := st.Alerts(ctx, projections.AlertQuery{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if g := summary(got); !slices.Equal(g, want) {
				t.Fatalf("sequence %d after removal: script\n%q\nResolveRemoved\n%q", seq, g, want)
			}
		}
		deleteKeys(ctx, rdb, prefix)
	}
	t.Logf("%d deliveries agree", compared)
}
