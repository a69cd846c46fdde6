package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbhealth/database-service/testsupport/logrec"
	"github.com/dbhealth/database-service/testsupport/wait"
)

func TestWorkerRetriesThenDeliversOnce(t *testing.T) {
	l := sharedLog(t, nil)
	rec := newRecorder(t, reply{code: 503}, reply{code: 503, header: map[string]string{"Retry-After": "0"}}, reply{code: 503})
	m, _ := testMetrics(t, l)
	logger, logs := logrec.New()
	o := fastOptions("r1")
	o.Metrics, o.Logger = m, logger
	w := newWorker(t, l, registry(t, hookReceiver(t, "ops", rec, Route{})), o)
	n := sample()
	if err := w.Deliver(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(m.total.WithLabelValues("ops", "retry")); got != 1 {
		t.Fatalf("retries after the first attempt = %v", got)
	}
	run(t, w)
	wait.Eventually(t, 5*time.Second, "delivery", func() (bool, string) {
		e, ok := entryOf(t, l, EntryDelivered, n.ID)
		return ok, e.LastError
	})
	time.Sleep(100 * time.Millisecond) // nothing more is sent
	reqs := rec.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 3 failures and 1 success", len(reqs))
	}
	for _, id := range webhookIDs(reqs) {
		if id != n.ID {
			t.Errorf("webhook-id %q, want %q on every attempt", id, n.ID)
		}
	}
	e, _ := entryOf(t, l, EntryDelivered, n.ID)
	if e.Attempts != 4 {
		t.Errorf("attempts = %d, want 4", e.Attempts)
	}
	if r, d := testutil.ToFloat64(m.total.WithLabelValues("ops", "retry")), testutil.ToFloat64(m.total.WithLabelValues("ops", "delivered")); r != 3 || d != 1 {
		t.Errorf("metrics: retry %v delivered %v, want 3 and 1", r, d)
	}
	retried, delivered := logs.Records(slog.LevelWarn, "notification attempt failed; retrying"), logs.Records(slog.LevelInfo, "notification delivered")
	if len(retried) != 3 || len(delivered) != 1 {
		t.Fatalf("logged %d retries and %d deliveries", len(retried), len(delivered))
	}
	for _, r := range append(retried, delivered...) {
		if r.Attrs["receiver"] != "ops" || r.Attrs["notification"] != n.ID || r.Attrs["owner"] != "r1" {
			t.Errorf("record attrs %v", r.Attrs)
		}
		for k, v := range r.Attrs {
			if strings.Contains(fmt.Sprint(v), "whsec_") {
				t.Errorf("secret logged under %s: %v", k, v)
			}
		}
	}
}

func TestWorkerPermanentDeadLettersThenRetryDelivers(t *testing.T) {
	l := sharedLog(t, nil)
	rec := newRecorder(t, reply{code: 400, body: "bad payload"})
	m, reg := testMetrics(t, l)
	o := fastOptions("r1")
	o.Metrics = m
	w := newWorker(t, l, registry(t, hookReceiver(t, "ops", rec, Route{})), o)
	run(t, w)
	n := sample()
	if err := w.Deliver(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	e, ok := entryOf(t, l, EntryFailed, n.ID)
	if !ok || e.Attempts != 1 || e.LastOutcome != OutcomeFailed {
		t.Fatalf("after a 400: %+v (listed as failed: %v)", e, ok)
	}
	if got := gaugeValue(t, reg, "dbhealth_notifications_pending"); got != 0 {
		t.Errorf("pending gauge with only a dead letter = %v", got)
	}
	time.Sleep(100 * time.Millisecond)
	if len(rec.requests()) != 1 {
		t.Fatalf("a dead letter was retried: %d requests", len(rec.requests()))
	}
	if err := l.Retry(context.Background(), n.ID); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 5*time.Second, "delivery after Retry", wait.Bool(func() bool {
		_, ok := entryOf(t, l, EntryDelivered, n.ID)
		return ok
	}))
	if got := len(rec.requests()); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	if f, d := testutil.ToFloat64(m.total.WithLabelValues("ops", "failed")), testutil.ToFloat64(m.total.WithLabelValues("ops", "delivered")); f != 1 || d != 1 {
		t.Errorf("metrics: failed %v delivered %v", f, d)
	}
}

func TestWorkerGoneDisablesReceiver(t *testing.T) {
	l := sharedLog(t, nil)
	rec := newRecorder(t, reply{code: 410})
	rs := registry(t, hookReceiver(t, "ops", rec, Route{}))
	w := newWorker(t, l, rs, fastOptions("r1"))
	n := sample()
	if err := w.Deliver(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if reason, off := rs.DisabledReason("ops"); !off || reason == "" {
		t.Fatalf("receiver not disabled after 410: %v", rs.Disabled())
	}
	e, ok := entryOf(t, l, EntryFailed, n.ID)
	if !ok || e.LastOutcome != OutcomeDisabled {
		t.Fatalf("entry = %+v", e)
	}
	// The next notification for it is dead-lettered without a request.
	r := resolvedSample()
	if err := w.Deliver(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if e, ok := entryOf(t, l, EntryFailed, r.ID); !ok || e.LastOutcome != OutcomeDisabled || e.Attempts != 0 {
		t.Fatalf("second notification: %+v", e)
	}
	if got := len(rec.requests()); got != 1 {
		t.Errorf("%d requests to a disabled receiver, want 1", got)
	}
}

func TestWorkerGivesUpAfterMaxAttempts(t *testing.T) {
	l := sharedLog(t, nil)
	rec := newRecorder(t, reply{code: 503}, reply{code: 503}, reply{code: 503}, reply{code: 503}, reply{code: 503})
	o := fastOptions("r1")
	o.MaxAttempts = 3
	w := newWorker(t, l, registry(t, hookReceiver(t, "ops", rec, Route{})), o)
	run(t, w)
	n := sample()
	if err := w.Deliver(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 5*time.Second, "dead letter", wait.Bool(func() bool {
		_, ok := entryOf(t, l, EntryFailed, n.ID)
		return ok
	}))
	time.Sleep(100 * time.Millisecond)
	if got := len(rec.requests()); got != 3 {
		t.Errorf("%d requests, want MaxAttempts=3", got)
	}
	if e, _ := entryOf(t, l, EntryFailed, n.ID); e.Attempts != 3 {
		t.Errorf("attempts %d", e.Attempts)
	}
}

func TestWorkerKilledMidRetryIsTakenOver(t *testing.T) {
	l := sharedLog(t, nil)
	// The first request hangs until its client goes away; then 200s.
	rec := newRecorder(t, reply{code: 200, delay: time.Minute})
	rs := registry(t, hookReceiver(t, "ops", rec, Route{}))
	short := fastOptions("a")
	short.Lease, short.AttemptTimeout = 400*time.Millisecond, 300*time.Millisecond
	a := newWorker(t, l, rs, short)
	short.Owner = "b"
	b := newWorker(t, l, rs, short)
	n := sample()

	ctx, kill := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Deliver(ctx, n) }()
	wait.Eventually(t, 5*time.Second, "a's request", wait.Bool(func() bool { return len(rec.requests()) == 1 }))
	kill()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	if e, ok := entryOf(t, l, EntryPending, n.ID); !ok || e.Owner != "a" || e.Attempts != 0 {
		t.Fatalf("after a was killed: %+v (pending %v); want a's claim left in place", e, ok)
	}
	run(t, b)
	wait.Eventually(t, 5*time.Second, "b's delivery", wait.Bool(func() bool {
		_, ok := entryOf(t, l, EntryDelivered, n.ID)
		return ok
	}))
	time.Sleep(200 * time.Millisecond)
	e, _ := entryOf(t, l, EntryDelivered, n.ID)
	if e.Attempts != 1 {
		t.Errorf("attempts = %d, want 1 (a's was never recorded)", e.Attempts)
	}
	if ids := webhookIDs(rec.requests()); !slices.Equal(ids, []string{n.ID, n.ID}) {
		t.Errorf("requests %v: want a's aborted one and b's", ids)
	}
}

func TestWorkerHoldsMutedThenSendsOnce(t *testing.T) {
	l := sharedLog(t, nil)
	rec := newRecorder(t)
	mute := &toggleMuter{}
	mute.on.Store(true)
	m, reg := testMetrics(t, l)
	var ws []*Worker
	for _, owner := range []string{"r1", "r2", "r3"} {
		o := fastOptions(owner)
		o.Muter, o.Metrics = mute, m
		w := newWorker(t, l, registry(t, hookReceiver(t, "ops", rec, Route{})), o)
		ws = append(ws, w)
		run(t, w)
	}
	n := sample()
	for _, w := range ws {
		if err := w.Deliver(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond) // many re-checks while muted
	if got := len(rec.requests()); got != 0 {
		t.Fatalf("%d requests while muted", got)
	}
	e, ok := entryOf(t, l, EntryPending, n.ID)
	if !ok || e.LastOutcome != OutcomeHeld || e.Attempts != 0 || e.LastError != "muted: silence s-1" {
		t.Fatalf("held entry = %+v (pending %v)", e, ok)
	}
	if got := gaugeValue(t, reg, "dbhealth_notifications_pending"); got != 1 {
		t.Errorf("pending gauge while held = %v", got)
	}
	if got := testutil.ToFloat64(m.total.WithLabelValues("ops", "held")); got < 2 {
		t.Errorf("held count %v: the mute was not re-checked", got)
	}
	mute.on.Store(false)
	wait.Eventually(t, 5*time.Second, "delivery once unmuted", wait.Bool(func() bool { return len(rec.requests()) > 0 }))
	time.Sleep(200 * time.Millisecond)
	if got := len(rec.requests()); got != 1 {
		t.Fatalf("%d requests after unmute, want 1", got)
	}
	if _, ok := entryOf(t, l, EntryDelivered, n.ID); !ok {
		t.Fatal("not delivered")
	}
	if got := testutil.ToFloat64(m.total.WithLabelValues("ops", "delivered")); got != 1 {
		t.Errorf("delivered count %v", got)
	}
}
