package notify

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// flapping is a target's transitions: three incidents (DOWN, DEGRADED then
// DOWN, DOWN).
func flapping() []events.StateChanged {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	steps := [][2]string{{"UNKNOWN", "UP"}, {"UP", "DOWN"}, {"DOWN", "UP"}, {"UP", "DEGRADED"}, {"DEGRADED", "DOWN"}, {"DOWN", "UP"}, {"UP", "DOWN"}, {"DOWN", "UP"}}
	var out []events.StateChanged
	for i, st := range steps {
		out = append(out, events.StateChanged{Target: events.TargetRef{Type: "postgres", Name: "orders"}, From: st[0], To: st[1],
			Reason: st[0] + " to " + st[1], Seq: int64(i + 1), Epoch: 3, At: t0.Add(time.Duration(i) * time.Minute), Initial: i == 0})
	}
	return out
}

// TestThreeReplicasFlapping: three replicas share one Redis log and each
// handles every StateChanged (as misconfigured consumers would); every
// receiver still gets exactly one firing and one resolved per incident,
// plus one escalation (DEGRADED -> DOWN) for the receivers that took the
// warning.
func TestThreeReplicasFlapping(t *testing.T) {
	t.Run("redis", func(t *testing.T) { testFlapping(t, sharedLog(t, nil)) })
	t.Run("local", func(t *testing.T) {
		l, err := OpenLocalLog(t.TempDir(), nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		testFlapping(t, l)
	})
}

func testFlapping(t *testing.T, l interface {
	Log
	TransitionLog
}) {
	f := false
	ops := newRecorder(t, reply{code: 503}, reply{code: 503}) // two failures to retry
	chat := newRecorder(t)
	pager := newRecorder(t)
	var pipes []*Pipeline
	for i := range 3 {
		rs := []Receiver{hookReceiver(t, "ops", ops, Route{}), hookReceiver(t, "chat", chat, Route{}),
			hookReceiver(t, "pager", pager, Route{SendResolved: &f, Severities: []string{"critical"}})}
		w := newWorker(t, l, registry(t, rs...), fastOptions(fmt.Sprintf("replica-%d", i)))
		run(t, w)
		d, err := NewDispatcher(rs, l, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewPipeline(d, w)
		if err != nil {
			t.Fatal(err)
		}
		pipes = append(pipes, p)
	}
	evs := flapping()
	var wg sync.WaitGroup
	for _, p := range pipes {
		wg.Go(func() {
			for _, s := range evs {
				if err := p.OnStateChanged(context.Background(), s); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	want := map[string]int{"ops": 7, "chat": 7, "pager": 3}
	recs := map[string]*recorder{"ops": ops, "chat": chat, "pager": pager}
	failedFirst := map[string]int{"ops": 2}
	wait.Eventually(t, 10*time.Second, "every delivery", func() (bool, string) {
		got := map[string]int{}
		for name, r := range recs {
			got[name] = len(r.requests()) - failedFirst[name]
		}
		return maps.Equal(got, want), fmt.Sprint(got)
	})
	time.Sleep(300 * time.Millisecond) // and nothing more
	alerts := []string{"postgres/orders:3:2", "postgres/orders:3:4", "postgres/orders:3:7"}
	for name, r := range recs {
		reqs := r.requests()
		accepted := reqs[failedFirst[name]:]
		if len(accepted) != want[name] {
			t.Errorf("%s: %d accepted requests, want %d", name, len(accepted), want[name])
			continue
		}
		ids := webhookIDs(accepted)
		if u := slices.Compact(slices.Sorted(slices.Values(ids))); len(u) != len(ids) {
			t.Errorf("%s: duplicate webhook-ids among %v", name, ids)
		}
		for _, id := range webhookIDs(reqs[:failedFirst[name]]) {
			if !slices.Contains(ids, id) {
				t.Errorf("%s: failed attempt %s never delivered", name, id)
			}
		}
		per := map[string]int{}
		for _, n := range bodies(t, accepted) {
			kind := string(n.State)
			if n.ID != NewID(name, n.AlertID, n.State) {
				kind = "escalated"
				if n.ID != NewID(name, n.AlertID, n.State)+":escalated:3:5" {
					t.Errorf("%s: id %s of %s %s", name, n.ID, n.AlertID, n.State)
				}
			}
			per[n.AlertID+" "+kind]++
		}
		for _, a := range alerts {
			wantResolved, wantEscalated := 1, 0
			if name == "pager" {
				wantResolved = 0
			} else if a == "postgres/orders:3:4" {
				wantEscalated = 1
			}
			if per[a+" firing"] != 1 || per[a+" resolved"] != wantResolved || per[a+" escalated"] != wantEscalated {
				t.Errorf("%s: alert %s got %d firing, %d escalated, %d resolved; want 1, %d, %d", name, a,
					per[a+" firing"], per[a+" escalated"], per[a+" resolved"], wantEscalated, wantResolved)
			}
		}
		t.Logf("%s: %d requests (%d failed then retried), %d notifications delivered once each, %v", name, len(reqs), failedFirst[name], len(accepted), per)
	}
	es, err := l.List(context.Background(), EntryDelivered, 100)
	if err != nil || len(es) != 17 {
		t.Errorf("delivered entries = %d, %v; want 17", len(es), err)
	}
	t.Logf("3 replicas x %d events = %d dispatches -> %d notifications delivered", len(evs), 3*len(evs), len(es))
}
