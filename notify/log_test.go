package notify_test

import (
	"context"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/notify"
	"github.com/dbhealth/database-service/notify/logtest"
	"github.com/dbhealth/database-service/testsupport/redistest"
)

func redisLog(t testing.TB, now func() time.Time) logtest.Store {
	rdb := redistest.Machine(t)
	l, err := notify.NewRedisLog(rdb, redistest.Prefix(t, rdb, "notifytest"), now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func localLog(t testing.TB, now func() time.Time) logtest.Store {
	l, err := notify.OpenLocalLog(t.TempDir(), now, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func TestLogContract(t *testing.T) {
	logtest.Run(t, logtest.Backend{Name: "redis", Open: redisLog})
	logtest.Run(t, logtest.Backend{Name: "local", Open: localLog})
}

// TestLocalLogSurvivesRestart: entries and transitions are on disk; a
// claim of the process that stopped is not.
func TestLocalLogSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l, err := notify.OpenLocalLog(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	failed, claimed := logtest.Sample(1), logtest.Sample(2)
	if _, ok, err := l.Claim(ctx, failed, "a", time.Minute); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if err := l.Record(ctx, failed.ID, "a", notify.Outcome{Kind: notify.OutcomeFailed, Attempts: 1, Error: "HTTP 400"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := l.Claim(ctx, claimed, "a", time.Hour); err != nil || !ok {
		t.Fatal(ok, err)
	}
	s := events.StateChanged{Target: events.TargetRef{Type: "redis", Name: "c"}, From: "UP", To: "DOWN", Seq: 2, Epoch: 1, At: time.Now()}
	if _, err := l.Transitions(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkGone(ctx, "ops", notify.GoneMark{Fingerprint: "f", Reason: "HTTP 410"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = notify.OpenLocalLog(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	es, err := l.List(ctx, notify.EntryFailed, 10)
	if err != nil || len(es) != 1 || es[0].Notification.ID != failed.ID || es[0].LastError != "HTTP 400" {
		t.Fatalf("failed after restart = %+v, %v", es, err)
	}
	es, err = l.List(ctx, notify.EntryPending, 10)
	if err != nil || len(es) != 1 || es[0].Owner != "" {
		t.Fatalf("pending after restart = %+v, %v", es, err)
	}
	if due, err := l.Due(ctx, time.Now(), 10); err != nil || len(due) != 1 || due[0].Notification.ID != claimed.ID {
		t.Fatalf("the dead process's claim is not due at once: %+v, %v", due, err)
	}
	trs, err := l.Transitions(ctx, s)
	if err != nil || len(trs) != 1 {
		t.Fatalf("transitions after restart = %+v, %v", trs, err)
	}
	if m, err := l.GoneMarks(ctx); err != nil || m["ops"].Reason != "HTTP 410" {
		t.Errorf("gone marks after restart = %+v, %v", m, err)
	}
}

// TestLocalLogPrunesTransitions: a target's transitions go once the last
// is older than TransitionTTL, on disk too (the Redis log's keys expire
// on Redis's clock instead).
func TestLocalLogPrunesTransitions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := logtest.NewClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	l, err := notify.OpenLocalLog(dir, clk.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	old := events.StateChanged{Target: events.TargetRef{Type: "postgres", Name: "orders"}, Epoch: 1, Seq: 1,
		From: "UP", To: "DOWN", At: clk.Now()}
	kept := old
	kept.Target.Name, kept.At = "billing", clk.Now().Add(notify.TransitionTTL)
	for _, s := range []events.StateChanged{old, kept} {
		if _, err := l.Transitions(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(notify.TransitionTTL + time.Hour)
	if _, err := l.Prune(ctx, clk.Now().Add(-time.Hour), 10); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = notify.OpenLocalLog(dir, clk.Now, nil); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	next := old
	next.Seq, next.From, next.To, next.At = 2, "DOWN", "UP", clk.Now()
	got, err := l.Transitions(ctx, next)
	if err != nil || len(got) != 1 || got[0].Seq != 2 {
		t.Errorf("transitions of the pruned target = %+v, %v; want only the new one", got, err)
	}
	if got, err := l.Transitions(ctx, kept); err != nil || len(got) != 1 {
		t.Errorf("transitions of the recent target = %+v, %v; want it kept", got, err)
	}
}
