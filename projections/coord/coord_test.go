package coord

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections/storetest"
	"github.com/dbhealth/database-service/testsupport/redistest"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// stores runs f against the machine's Redis (unless -short) and an
// embedded miniredis, each with a unique key prefix that is deleted after.
func stores(t *testing.T, f func(t *testing.T, rdb redis.UniversalClient, prefix string)) {
	t.Run("miniredis", func(t *testing.T) {
		m := miniredis.RunT(t)
		m.ClockTTL(true)
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { _ = rdb.Close() })
		f(t, rdb, "t")
	})
	t.Run("redis", func(t *testing.T) {
		rdb := redistest.Machine(t)
		f(t, rdb, redistest.Prefix(t, rdb, "test-coord"))
	})
}

func target(name string) probes.Target {
	return probes.Target{Kind: probes.Postgres, Name: name, Interval: time.Second, FailureThreshold: 3, SuccessThreshold: 2}
}

func check(t probes.Target, s probes.State, slot int64) probes.Check {
	return probes.Check{Slot: slot, Result: probes.Result{Target: t, State: s, CheckedAt: time.UnixMilli(slot)}}
}

func TestClaimOnceAcrossReplicas(t *testing.T) {
	stores(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := context.Background()
		var due []probes.Due
		for i := range 20 {
			due = append(due, probes.Due{Target: target(fmt.Sprint("t", i)), Trigger: probes.TriggerSchedule, Step: time.Minute})
		}
		wins := make([]int, len(due))
		var mu sync.Mutex
		var wg sync.WaitGroup
		for r := range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := NewClaimer(rdb, prefix, fmt.Sprint("replica-", r))
				cl, err := c.Claim(ctx, due)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				for i, x := range cl {
					if x.Won {
						wins[i]++
					}
					if x.Slot <= 0 {
						t.Errorf("slot %d", x.Slot)
					}
				}
			}()
		}
		wg.Wait()
		for i, w := range wins {
			if w != 1 {
				t.Fatalf("due %d won %d times, want once", i, w)
			}
		}
	})
}

func outbox(t *testing.T, rdb redis.UniversalClient, prefix string) []events.StateChanged {
	t.Helper()
	msgs, err := rdb.XRange(context.Background(), Keys{prefix}.Outbox(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []events.StateChanged
	for _, m := range msgs {
		sc, err := transitionFromEntry(m.Values)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sc)
	}
	return out
}

func TestApplyHysteresisAndFencing(t *testing.T) {
	stores(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := context.Background()
		a := NewApplier(rdb, prefix, "r1", "/test", nil, nil, nil)
		tg := target("db")
		seq := []struct {
			s       probes.State
			slot    int64
			pending bool
		}{
			{probes.StateUp, 1000, false},      // UNKNOWN -> UP at once (initial)
			{probes.StateDown, 2000, true},     // 1/3
			{probes.StateDown, 1500, true},     // stale: rejected
			{probes.StateDown, 3000, true},     // 2/3
			{probes.StateDown, 4000, false},    // 3/3 -> DOWN
			{probes.StateUp, 5000, true},       // 1/2
			{probes.StateDown, 6000, false},    // back to stable: reset
			{probes.StateUp, 7000, true},       // 1/2
			{probes.StateUp, 8000, false},      // 2/2 -> UP
			{probes.StateDegraded, 9000, true}, // 1/3
		}
		for i, s := range seq {
			out, err := a.Apply(ctx, []probes.Check{check(tg, s.s, s.slot)})
			if err != nil {
				t.Fatal(err)
			}
			if out[0].Pending != s.pending {
				t.Fatalf("step %d (%s@%d): pending=%v want %v", i, s.s, s.slot, out[0].Pending, s.pending)
			}
		}
		got := outbox(t, rdb, prefix)
		want := [][2]string{{"UNKNOWN", "UP"}, {"UP", "DOWN"}, {"DOWN", "UP"}}
		if len(got) != len(want) {
			t.Fatalf("transitions %+v", got)
		}
		for i, w := range want {
			if got[i].From != w[0] || got[i].To != w[1] || got[i].Seq != int64(i+1) {
				t.Fatalf("transition %d = %s->%s seq %d, want %v seq %d", i, got[i].From, got[i].To, got[i].Seq, w, i+1)
			}
			if got[i].Initial != (i == 0) || got[i].Epoch == 0 || got[i].Check.Target.Name != "db" {
				t.Fatalf("transition %d: %+v", i, got[i])
			}
		}
		// The store loses the state: a new epoch starts, ids never collide.
		if err := rdb.Del(ctx, Keys{prefix}.State(tg.ID())).Err(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
		if _, err := a.Apply(ctx, []probes.Check{check(tg, probes.StateUp, 10000)}); err != nil {
			t.Fatal(err)
		}
		got = outbox(t, rdb, prefix)
		last := got[len(got)-1]
		if last.Seq != 1 || last.Epoch == got[0].Epoch || !last.Initial {
			t.Fatalf("after data loss: %+v (first epoch %d)", last, got[0].Epoch)
		}
		if last.ID() == got[0].ID() {
			t.Fatal("event id collided across epochs")
		}
	})
}

func TestApplyReloadsScriptAfterFlush(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()
	a := NewApplier(rdb, "p", "r", "/t", nil, nil, nil)
	ctx := context.Background()
	if _, err := a.Apply(ctx, []probes.Check{check(target("x"), probes.StateUp, 1)}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Apply(ctx, []probes.Check{check(target("x"), probes.StateUp, 2)}); err != nil {
		t.Fatalf("after SCRIPT FLUSH: %v", err)
	}
}

func TestRelayPublishesRetriesAndReclaims(t *testing.T) {
	stores(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		a := NewApplier(rdb, prefix, "r1", "/test", nil, nil, nil)
		for i := range 5 {
			if _, err := a.Apply(ctx, []probes.Check{check(target(fmt.Sprint("db", i)), probes.StateUp, 1000)}); err != nil {
				t.Fatal(err)
			}
		}
		// A replica reads the entries and dies before publishing them.
		dead := NewRelay(rdb, prefix, "dead", "/test", &storetest.Publisher{}, RelayOptions{}, nil)
		if err := dead.ensureGroup(ctx); err != nil {
			t.Fatal(err)
		}
		msgs, err := dead.read(ctx, ">", 0)
		if err != nil || len(msgs) != 5 {
			t.Fatalf("dead read %d %v", len(msgs), err)
		}
		// A survivor whose broker is down at first.
		pub := storetest.FailingPublisher()
		var repeated atomic.Int64
		opts := RelayOptions{ClaimIdle: 200 * time.Millisecond, Block: 50 * time.Millisecond, Backoff: 20 * time.Millisecond,
			Repeated: func(n int) { repeated.Add(int64(n)) }}
		live := NewRelay(rdb, prefix, "live", "/test", pub, opts, nil)
		done := make(chan struct{})
		go func() { defer close(done); _ = live.Run(ctx) }()
		time.Sleep(300 * time.Millisecond)
		if n := len(pub.IDs()); n != 0 {
			t.Fatalf("published %d while the broker was down", n)
		}
		pub.SetFailing(false)
		// New transitions arrive meanwhile.
		for i := 5; i < 8; i++ {
			if _, err := a.Apply(ctx, []probes.Check{check(target(fmt.Sprint("db", i)), probes.StateUp, 1000)}); err != nil {
				t.Fatal(err)
			}
		}
		wait.Eventually(t, 5*time.Second, "the condition", wait.Bool(func() bool { return len(pub.IDs()) >= 8 }))
		time.Sleep(100 * time.Millisecond)
		seen := pub.Counts()
		if len(seen) != 8 {
			t.Fatalf("published %d distinct transitions, want 8: %v", len(seen), seen)
		}
		wait.Eventually(t, 2*time.Second, "the condition", wait.Bool(func() bool { n, _ := live.Len(ctx); return n == 0 }))
		cancel()
		<-done
		// The 5 reclaimed ones, and every failed batch, may have been
		// handed to the broker before: each is counted as a possible repeat.
		if n := repeated.Load(); n < 5+5 {
			t.Errorf("Repeated told of %d entries, want the 5 reclaimed and at least one failed batch of 5", n)
		}
	})
}
