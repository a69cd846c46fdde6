package logtest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/dbhealth/database-service/notify"
)

// testPrune: finished entries older than the cut are dropped, in batches
// of the limit; failed and pending ones, and newer finished ones, stay.
func testPrune(t *testing.T, s Store, clk *Clock) {
	ctx := context.Background()
	finish := func(i int, kind notify.OutcomeKind) notify.Notification {
		n := Sample(i)
		claim(t, s, n, "a", time.Minute)
		record(t, s, n.ID, "a", notify.Outcome{Kind: kind, Attempts: 1, At: clk.Now().Add(time.Hour)})
		return n
	}
	old := []notify.Notification{
		finish(1, notify.OutcomeDelivered), finish(2, notify.OutcomeDelivered), finish(3, notify.OutcomeSuppressed),
	}
	failed := finish(4, notify.OutcomeFailed)
	pending := finish(5, notify.OutcomeRetry)
	clk.Advance(2 * time.Hour)
	recent := finish(6, notify.OutcomeDelivered)

	cut := clk.Now().Add(-time.Hour)
	n1, err := s.Prune(ctx, cut, 2)
	if err != nil || n1 != 2 {
		t.Fatalf("Prune(limit 2) = %d, %v; want 2", n1, err)
	}
	n2, err := s.Prune(ctx, cut, 2)
	if err != nil || n2 != 1 {
		t.Fatalf("second Prune = %d, %v; want the last old one", n2, err)
	}
	if n, err := s.Prune(ctx, cut, 2); err != nil || n != 0 {
		t.Fatalf("third Prune = %d, %v; want 0", n, err)
	}
	for state, want := range map[notify.EntryState][]string{
		notify.EntryDelivered:  {recent.ID},
		notify.EntrySuppressed: {},
		notify.EntryFailed:     {failed.ID},
		notify.EntryPending:    {pending.ID},
	} {
		if got := ids(s.List(ctx, state, 10)); !slices.Equal(got, want) {
			t.Errorf("%s after prune = %v, want %v", state, got, want)
		}
	}
	// A pruned notification is forgotten: handed in again, it is new.
	c, ok := claim(t, s, old[0], "b", time.Minute)
	if !ok || c.Entry.Attempts != 0 {
		t.Errorf("claim of a pruned notification: ok=%v attempts=%d", ok, c.Entry.Attempts)
	}
	// The failed one can still be retried.
	if err := s.Retry(ctx, failed.ID); err != nil {
		t.Errorf("Retry of a failed entry after prune: %v", err)
	}
}

// testGone: receivers marked gone are listed until cleared; a second mark
// replaces the first.
func testGone(t *testing.T, s Store, clk *Clock) {
	ctx := context.Background()
	if m, err := s.GoneMarks(ctx); err != nil || len(m) != 0 {
		t.Fatalf("marks of a new log = %v, %v", m, err)
	}
	for _, m := range []notify.GoneMark{{Fingerprint: "f1", Reason: "HTTP 410", At: clk.Now()}, {Fingerprint: "f2", Reason: "HTTP 410 again", At: clk.Now()}} {
		if err := s.MarkGone(ctx, "ops", m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkGone(ctx, "chat", notify.GoneMark{Fingerprint: "f3", Reason: "archived", At: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	m, err := s.GoneMarks(ctx)
	if err != nil || len(m) != 2 || m["ops"].Fingerprint != "f2" || m["chat"].Reason != "archived" || !m["ops"].At.Equal(clk.Now()) {
		t.Fatalf("marks = %+v, %v", m, err)
	}
	for range 2 { // clearing twice is no error
		if err := s.ClearGone(ctx, "ops"); err != nil {
			t.Fatal(err)
		}
	}
	if m, err := s.GoneMarks(ctx); err != nil || len(m) != 1 || m["chat"].Fingerprint != "f3" {
		t.Errorf("marks after clearing ops = %+v, %v", m, err)
	}
}
