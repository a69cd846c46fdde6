// Package logtest is the contract every notification log meets (the Redis
// log of shared mode and the Pebble log of standalone mode): one suite,
// run by each log's tests through Run with a Backend that opens it.
package logtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/notify"
)

// Store is what the contract covers.
type Store interface {
	notify.Log
	notify.Leaser
	notify.TransitionLog
	notify.Pruner
	notify.GoneStore
	Pending(ctx context.Context) (int, error)
}

// Clock is a settable clock for the log under test.
type Clock struct{ ms atomic.Int64 }

// NewClock is a clock at t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.ms.Store(t.UnixMilli())
	return c
}

// Now is the clock's time.
func (c *Clock) Now() time.Time { return time.UnixMilli(c.ms.Load()) }

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

// Backend opens one kind of log.
type Backend struct {
	// Name names the subtests.
	Name string
	// Open returns a fresh, empty log on clock now; it cleans up through t.
	Open func(t testing.TB, now func() time.Time) Store
}

// Run runs the whole contract against b.
func Run(t *testing.T, b Backend) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, Store, *Clock)
	}{
		{"ClaimOnce", testClaimOnce},
		{"ConcurrentClaimers", testConcurrentClaimers},
		{"LeaseExpiryTakeover", testLeaseTakeover},
		{"RetryDeadLetterListRequeue", testFlow},
		{"Disabled", testDisabled},
		{"Lease", testLease},
		{"Transitions", testTransitions},
		{"Prune", testPrune},
		{"Gone", testGone},
	} {
		t.Run(b.Name+"/"+c.name, func(t *testing.T) {
			clk := NewClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
			c.f(t, b.Open(t, clk.Now), clk)
		})
	}
}

// Sample is a firing notification numbered i.
func Sample(i int) notify.Notification {
	alert := fmt.Sprintf("postgres/orders:1:%d", i)
	return notify.Notification{
		ID: notify.NewID("ops", alert, notify.StateFiring), Receiver: "ops", AlertID: alert,
		State: notify.StateFiring, Severity: events.SeverityCritical,
		Target:    events.TargetRef{Type: "postgres", Name: "orders"},
		StartedAt: time.Date(2026, 12, 1, 11, 0, 0, 0, time.UTC), EventID: alert,
	}
}

func claim(t *testing.T, s Store, n notify.Notification, owner string, lease time.Duration) (notify.Claim, bool) {
	t.Helper()
	c, ok, err := s.Claim(context.Background(), n, owner, lease)
	if err != nil {
		t.Fatalf("Claim(%s, %s): %v", n.ID, owner, err)
	}
	return c, ok
}

func record(t *testing.T, s Store, id, owner string, o notify.Outcome) {
	t.Helper()
	if err := s.Record(context.Background(), id, owner, o); err != nil {
		t.Fatalf("Record(%s, %s, %s): %v", id, owner, o.Kind, err)
	}
}

// ids are the ids of es, or the error as the only element.
func ids(es []notify.Entry, err error) []string {
	if err != nil {
		return []string{"error: " + err.Error()}
	}
	out := []string{}
	for _, e := range es {
		out = append(out, e.Notification.ID)
	}
	return out
}

func testClaimOnce(t *testing.T, s Store, clk *Clock) {
	n := Sample(1)
	c, ok := claim(t, s, n, "a", time.Minute)
	if !ok || c.Entry.Attempts != 0 || c.Entry.Notification.ID != n.ID || c.Entry.Notification.Reason != n.Reason {
		t.Fatalf("first claim: ok=%v %+v", ok, c)
	}
	if !c.Until.Equal(clk.Now().Add(time.Minute)) {
		t.Errorf("lease until %v, want %v", c.Until, clk.Now().Add(time.Minute))
	}
	for _, owner := range []string{"b", "a"} {
		if _, ok := claim(t, s, n, owner, time.Minute); ok {
			t.Errorf("claim by %s while a holds the lease won", owner)
		}
	}
	if got := ids(s.Due(context.Background(), clk.Now(), 10)); len(got) != 0 {
		t.Errorf("Due while claimed = %v", got)
	}
	record(t, s, n.ID, "a", notify.Outcome{Kind: notify.OutcomeDelivered, Attempts: 1})
	if _, ok := claim(t, s, n, "b", time.Minute); ok {
		t.Error("a delivered notification was claimed again")
	}
	clk.Advance(time.Hour)
	if _, ok := claim(t, s, n, "b", time.Minute); ok {
		t.Error("a delivered notification was claimed again an hour later")
	}
	if got := ids(s.List(context.Background(), notify.EntryDelivered, 10)); !slices.Equal(got, []string{n.ID}) {
		t.Errorf("delivered = %v", got)
	}
}

func testConcurrentClaimers(t *testing.T, s Store, _ *Clock) {
	for round := range 5 {
		n := Sample(100 + round)
		var (
			wg      sync.WaitGroup
			won     atomic.Int32
			errs    = make(chan error, 10)
			winners sync.Map
		)
		for g := range 10 {
			wg.Go(func() {
				owner := fmt.Sprintf("w%d", g)
				_, ok, err := s.Claim(context.Background(), n, owner, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				if ok {
					won.Add(1)
					winners.Store(owner, true)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if won.Load() != 1 {
			t.Fatalf("round %d: %d of 10 concurrent claimers won, want exactly 1", round, won.Load())
		}
	}
	if p, err := s.Pending(context.Background()); err != nil || p != 5 {
		t.Errorf("Pending = %d, %v; want 5", p, err)
	}
}

func testLeaseTakeover(t *testing.T, s Store, clk *Clock) {
	ctx := context.Background()
	n := Sample(2)
	claim(t, s, n, "a", time.Minute)
	record(t, s, n.ID, "a", notify.Outcome{Kind: notify.OutcomeRetry, Attempts: 1, At: clk.Now(), Error: "503"})
	c, ok := claim(t, s, n, "a", 2*time.Second)
	if !ok || c.Entry.Attempts != 1 {
		t.Fatalf("re-claim: ok=%v attempts=%d", ok, c.Entry.Attempts)
	}
	// a dies without recording.
	clk.Advance(time.Second)
	if _, ok := claim(t, s, n, "b", time.Minute); ok {
		t.Fatal("b took over a running lease")
	}
	clk.Advance(time.Second)
	if got := ids(s.Due(ctx, clk.Now(), 10)); !slices.Equal(got, []string{n.ID}) {
		t.Fatalf("Due after the lease expired = %v, want the orphan", got)
	}
	c, ok = claim(t, s, n, "b", time.Minute)
	if !ok || c.Entry.Attempts != 1 {
		t.Fatalf("takeover: ok=%v attempts=%d", ok, c.Entry.Attempts)
	}
	if err := s.Record(ctx, n.ID, "a", notify.Outcome{Kind: notify.OutcomeDelivered, Attempts: 2}); !errors.Is(err, notify.ErrNotOwner) {
		t.Fatalf("Record by the dead owner = %v, want ErrNotOwner", err)
	}
	record(t, s, n.ID, "b", notify.Outcome{Kind: notify.OutcomeDelivered, Attempts: 2})
	es, err := s.List(ctx, notify.EntryDelivered, 10)
	if err != nil || len(es) != 1 || es[0].Attempts != 2 || es[0].Owner != "" {
		t.Fatalf("delivered = %+v, %v", es, err)
	}
}

func testFlow(t *testing.T, s Store, clk *Clock) {
	ctx := context.Background()
	n := Sample(3)
	claim(t, s, n, "a", time.Minute)
	record(t, s, n.ID, "a", notify.Outcome{Kind: notify.OutcomeRetry, Attempts: 1, At: clk.Now().Add(10 * time.Second), Error: "HTTP 503"})
	if got := ids(s.Due(ctx, clk.Now(), 10)); len(got) != 0 {
		t.Fatalf("Due before the retry time = %v", got)
	}
	if _, ok := claim(t, s, n, "b", time.Minute); ok {
		t.Fatal("claimed before its retry time")
	}
	es, err := s.List(ctx, notify.EntryPending, 10)
	if err != nil || len(es) != 1 || es[0].Attempts != 1 || es[0].LastError != "HTTP 503" || es[0].LastOutcome != notify.OutcomeRetry ||
		!es[0].NextAt.Equal(clk.Now().Add(10*time.Second)) {
		t.Fatalf("pending = %+v, %v", es, err)
	}
	clk.Advance(10 * time.Second)
	if got := ids(s.Due(ctx, clk.Now(), 10)); !slices.Equal(got, []string{n.ID}) {
		t.Fatalf("Due at the retry time = %v", got)
	}
	c, ok := claim(t, s, n, "b", time.Minute)
	if !ok || c.Entry.Attempts != 1 {
		t.Fatalf("claim at the retry time: %v %+v", ok, c)
	}
	record(t, s, n.ID, "b", notify.Outcome{Kind: notify.OutcomeFailed, Attempts: 2, Error: "HTTP 400"})
	if got := ids(s.List(ctx, notify.EntryFailed, 10)); !slices.Equal(got, []string{n.ID}) {
		t.Fatalf("failed = %v", got)
	}
	if got := ids(s.List(ctx, notify.EntryPending, 10)); len(got) != 0 {
		t.Fatalf("pending after dead-letter = %v", got)
	}
	clk.Advance(time.Hour)
	if got := ids(s.Due(ctx, clk.Now(), 10)); len(got) != 0 {
		t.Fatalf("a dead letter is due: %v", got)
	}
	if _, ok := claim(t, s, n, "c", time.Minute); ok {
		t.Fatal("a dead letter was claimed")
	}
	if err := s.Retry(ctx, "ntf_nope"); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("Retry(unknown) = %v", err)
	}
	if err := s.Retry(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(ctx, n.ID); !errors.Is(err, notify.ErrNotFailed) {
		t.Errorf("Retry(pending) = %v", err)
	}
	if got := ids(s.List(ctx, notify.EntryFailed, 10)); len(got) != 0 {
		t.Fatalf("failed after Retry = %v", got)
	}
	c, ok = claim(t, s, n, "c", time.Minute)
	if !ok || c.Entry.Attempts != 0 {
		t.Fatalf("claim after Retry: %v %+v", ok, c)
	}
	record(t, s, n.ID, "c", notify.Outcome{Kind: notify.OutcomeDelivered, Attempts: 1})
	if err := s.Retry(ctx, n.ID); !errors.Is(err, notify.ErrNotFailed) {
		t.Errorf("Retry(delivered) = %v", err)
	}
	if p, err := s.Pending(ctx); err != nil || p != 0 {
		t.Errorf("Pending = %d, %v", p, err)
	}
}

func testDisabled(t *testing.T, s Store, clk *Clock) {
	ctx := context.Background()
	var want []string
	for i := range 3 {
		n := Sample(10 + i)
		claim(t, s, n, "a", time.Minute)
		clk.Advance(time.Millisecond)
		record(t, s, n.ID, "a", notify.Outcome{Kind: notify.OutcomeDisabled, Attempts: 1, Error: "HTTP 410"})
		want = append(want, n.ID)
	}
	es, err := s.List(ctx, notify.EntryFailed, 10)
	if got := ids(es, err); !slices.Equal(got, want) {
		t.Fatalf("failed = %v, want %v (oldest first)", got, want)
	}
	if es[0].LastOutcome != notify.OutcomeDisabled {
		t.Errorf("outcome = %q", es[0].LastOutcome)
	}
	if got := ids(s.List(ctx, notify.EntryFailed, 2)); len(got) != 2 {
		t.Errorf("List limit 2 = %v", got)
	}
}

func testLease(t *testing.T, s Store, clk *Clock) {
	ctx := context.Background()
	take := func(key, owner string, ttl time.Duration) bool {
		ok, err := s.Lease(ctx, key, owner, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take("am:x:1", "a", 200*time.Millisecond) || take("am:x:1", "b", 200*time.Millisecond) {
		t.Fatal("a second owner took a held lease")
	}
	if take("am:x:1", "a", 200*time.Millisecond) {
		t.Fatal("the holder took its held lease again")
	}
	if !take("am:x:2", "b", 200*time.Millisecond) {
		t.Fatal("another key was taken")
	}
	time.Sleep(250 * time.Millisecond) // Redis expires on its own clock
	clk.Advance(250 * time.Millisecond)
	if !take("am:x:1", "b", time.Second) {
		t.Fatal("an expired lease could not be taken")
	}
}

func testTransitions(t *testing.T, s Store, _ *Clock) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	sc := func(seq int64, from, to string) events.StateChanged {
		return events.StateChanged{Target: events.TargetRef{Type: "redis", Name: "cache"}, From: from, To: to, Seq: seq, Epoch: 7, At: at.Add(time.Duration(seq) * time.Minute)}
	}
	for _, x := range []events.StateChanged{sc(1, "UNKNOWN", "UP"), sc(2, "UP", "DOWN"), sc(2, "UP", "DOWN"), sc(3, "DOWN", "UP")} {
		if _, err := s.Transitions(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	trs, err := s.Transitions(ctx, sc(3, "DOWN", "UP"))
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, x := range trs {
		seqs = append(seqs, x.Seq)
	}
	slices.Sort(seqs)
	if !slices.Equal(seqs, []int64{1, 2, 3}) {
		t.Fatalf("transitions = %+v", trs)
	}
	other, err := s.Transitions(ctx, events.StateChanged{Target: events.TargetRef{Type: "redis", Name: "cache2"}, From: "UNKNOWN", To: "UP", Seq: 1, Epoch: 7, At: at})
	if err != nil || len(other) != 1 {
		t.Fatalf("another target's transitions = %+v, %v", other, err)
	}
}
