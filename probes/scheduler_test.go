package probes

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// fakeProber returns a fixed state per target and counts probes.
type fakeProber struct {
	mu       sync.Mutex
	calls    map[string][]time.Time
	state    map[string]State
	delay    time.Duration
	inflight atomic.Int32
	maxSeen  atomic.Int32
}

func newFakeProber() *fakeProber {
	return &fakeProber{calls: map[string][]time.Time{}, state: map[string]State{}}
}

func (p *fakeProber) Probe(ctx context.Context, id string) (Result, error) {
	n := p.inflight.Add(1)
	defer p.inflight.Add(-1)
	for {
		m := p.maxSeen.Load()
		if n <= m || p.maxSeen.CompareAndSwap(m, n) {
			break
		}
	}
	if p.delay > 0 {
		time.Sleep(p.delay)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls[id] = append(p.calls[id], time.Now())
	s := p.state[id]
	if s == "" {
		s = StateUp
	}
	return Result{Target: Target{Kind: Postgres, Name: id[len("postgres/"):]}, State: s, CheckedAt: time.Now()}, nil
}

func (p *fakeProber) count(id string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls[id])
}

type allClaimer struct{ n atomic.Int64 }

func (c *allClaimer) Claim(_ context.Context, due []Due) ([]Claim, error) {
	c.n.Add(1)
	out := make([]Claim, len(due))
	for i := range out {
		out[i] = Claim{Won: true, Slot: time.Now().UnixMilli()}
	}
	return out, nil
}

// pendingSink reports Pending while the observed state is DOWN.
type pendingSink struct {
	mu     sync.Mutex
	checks []Check
}

func (s *pendingSink) Apply(_ context.Context, cs []Check) ([]Outcome, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks = append(s.checks, cs...)
	out := make([]Outcome, len(cs))
	for i, c := range cs {
		out[i].Pending = c.Result.State == StateDown
	}
	return out, nil
}

func tg(name string, interval time.Duration) Target {
	return Target{Kind: Postgres, Name: name, Interval: interval, Timeout: time.Second}
}

func TestSchedulerIntervalsTriggersAndRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		p := newFakeProber()
		p.state["postgres/b"] = StateDown
		sink := &pendingSink{}
		s := NewScheduler(p, &allClaimer{}, sink, SchedulerOptions{RetryInterval: time.Second, FirstSpread: time.Second})
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		s.SetTargets([]Target{tg("a", 10*time.Second), tg("b", 10*time.Second)})

		time.Sleep(time.Second + 10*time.Millisecond)
		synctest.Wait()
		if p.count("postgres/a") != 1 {
			t.Fatalf("first probe of a not within the first spread: %d", p.count("postgres/a"))
		}
		// a: every 10s on its phase -> 3 probes in ~21s.
		// b stays DOWN -> pending -> re-probed every retry interval.
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if n := p.count("postgres/a"); n != 3 {
			t.Fatalf("a probed %d times in 21s at a 10s interval, want 3", n)
		}
		if n := p.count("postgres/b"); n < 18 {
			t.Fatalf("b probed %d times while pending, want a retry each second", n)
		}
		// A watcher trigger probes at once.
		before := p.count("postgres/a")
		s.Trigger("postgres/a", TriggerWatch)
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if p.count("postgres/a") != before+1 {
			t.Fatal("trigger did not probe at once")
		}
		// Removing a target stops it.
		s.SetTargets([]Target{tg("b", 10*time.Second)})
		time.Sleep(time.Millisecond)
		synctest.Wait()
		before = p.count("postgres/a")
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if p.count("postgres/a") != before {
			t.Fatal("removed target still probed")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestSchedulerConcurrencyCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		p := newFakeProber()
		p.delay = 500 * time.Millisecond
		claimer := &allClaimer{}
		s := NewScheduler(p, claimer, &pendingSink{}, SchedulerOptions{Concurrency: 4, FirstSpread: time.Millisecond})
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		var ts []Target
		for i := range 40 {
			ts = append(ts, tg(string(rune('a'+i%26))+string(rune('a'+i/26)), time.Minute))
		}
		s.SetTargets(ts)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		total := 0
		for _, x := range ts {
			total += p.count(x.ID())
		}
		if total != 40 {
			t.Fatalf("probed %d of 40", total)
		}
		if m := p.maxSeen.Load(); m != 4 {
			t.Fatalf("max concurrent probes %d, want the cap 4", m)
		}
		if claimer.n.Load() > 3 {
			t.Fatalf("%d claim calls for one batch of due targets, want them batched", claimer.n.Load())
		}
		cancel()
		<-done
	})
}

// A connection test probes under the concurrency cap and returns the
// results without claiming or applying them: it moves no state.
func TestTestNowIsNotApplied(t *testing.T) {
	p := newFakeProber()
	p.delay = 20 * time.Millisecond
	p.state["postgres/b"] = StateDown
	sink := &pendingSink{}
	claimer := &allClaimer{}
	s := NewScheduler(p, claimer, sink, SchedulerOptions{Concurrency: 2})
	var ts []Target
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		ts = append(ts, tg(n, time.Minute))
	}
	rs, err := s.TestNow(context.Background(), ts)
	if err != nil || len(rs) != 5 || rs[0].State != StateUp || rs[1].State != StateDown {
		t.Fatalf("%v %+v", err, rs)
	}
	if len(sink.checks) != 0 || claimer.n.Load() != 0 {
		t.Errorf("a test was claimed (%d) or applied (%d)", claimer.n.Load(), len(sink.checks))
	}
	if m := p.maxSeen.Load(); m > 2 {
		t.Errorf("%d probes ran at once, over the cap of 2", m)
	}
	if _, err := s.TestNow(context.Background(), nil); err != ErrNoTargets {
		t.Fatal(err)
	}
}

func TestSchedulerSkipsATargetStillBeingProbed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		p := newFakeProber()
		p.delay = 2500 * time.Millisecond // slower than the interval
		s := NewScheduler(p, &allClaimer{}, &pendingSink{}, SchedulerOptions{Concurrency: 8, FirstSpread: time.Millisecond})
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		s.SetTargets([]Target{tg("slow", time.Second)})
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if m := p.maxSeen.Load(); m != 1 {
			t.Fatalf("%d probes of one target ran at once, want 1", m)
		}
		if n := p.count("postgres/slow"); n < 3 || n > 4 {
			t.Fatalf("probed %d times in 10s at 2.5s per probe", n)
		}
		if s.Skipped() < 5 {
			t.Fatalf("skipped %d of the due probes, want those that came while one ran", s.Skipped())
		}
		cancel()
		<-done
	})
}

// badSink reports every DOWN check as a settled bad state (not pending).
type badSink struct{}

func (badSink) Apply(_ context.Context, cs []Check) ([]Outcome, error) {
	out := make([]Outcome, len(cs))
	for i, c := range cs {
		out[i].Bad = c.Result.State == StateDown
	}
	return out, nil
}

func TestSchedulerRecoveryBackoff(t *testing.T) {
	for _, on := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			p := newFakeProber()
			p.state["postgres/down"] = StateDown
			s := NewScheduler(p, &allClaimer{}, badSink{}, SchedulerOptions{RetryInterval: time.Second, FirstSpread: time.Millisecond, RecoveryBackoff: on})
			done := make(chan error, 1)
			go func() { done <- s.Run(ctx) }()
			s.SetTargets([]Target{tg("down", 30*time.Second)})
			time.Sleep(32 * time.Second)
			synctest.Wait()
			// With the backoff: at 0, 1, 3, 7, 15 and 31 s, besides the
			// scheduled probe at 30 s; without: at 0 and 30 s.
			want := 2
			if on {
				want = 7
			}
			if n := p.count("postgres/down"); n != want {
				t.Fatalf("backoff %v: probed %d times in 32s, want %d", on, n, want)
			}
			cancel()
			<-done
		})
	}
}

// refusingSink refuses every check while full is set (the outbox is at
// its cap).
type refusingSink struct{ full atomic.Bool }

func (s *refusingSink) Apply(_ context.Context, cs []Check) ([]Outcome, error) {
	out := make([]Outcome, len(cs))
	for i := range out {
		out[i].Refused = s.full.Load()
	}
	return out, nil
}

// A refused check is not applied: like a failed apply, the target is
// probed again at the retry interval until a check is accepted, then on
// its interval again.
func TestSchedulerReprobesRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		p := newFakeProber()
		sink := &refusingSink{}
		sink.full.Store(true)
		s := NewScheduler(p, &allClaimer{}, sink, SchedulerOptions{RetryInterval: time.Second, FirstSpread: time.Millisecond})
		done := make(chan error)
		go func() { done <- s.Run(ctx) }()
		s.SetTargets([]Target{tg("a", time.Minute)})
		time.Sleep(10*time.Second + 100*time.Millisecond)
		synctest.Wait()
		if n := p.count("postgres/a"); n < 9 {
			t.Fatalf("probed %d times in 10s while refused, want a retry each second", n)
		}
		sink.full.Store(false)
		time.Sleep(2 * time.Second)
		synctest.Wait()
		before := p.count("postgres/a")
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if n := p.count("postgres/a"); n != before {
			t.Fatalf("probed %d more times in 30s once accepted, want none before the 1m interval", n-before)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
