package notify

import (
	"context"
	"testing"

	"github.com/dbhealth/database-service/config/secret"
)

// built builds the receivers of cfgs as Config.Build does (with their
// fingerprints).
func built(t *testing.T, cfgs ...ReceiverConfig) *Receivers {
	t.Helper()
	rs, err := (&Config{Receivers: cfgs}).Build(Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return registry(t, rs...)
}

// TestWorkerGoneShared: a 410 seen by one replica's worker disables the
// receiver on the others at their next sweep, over the real Redis log; a
// receiver pointed elsewhere does not take the mark; clearing the mark
// enables it everywhere.
func TestWorkerGoneShared(t *testing.T) {
	ctx := context.Background()
	l := sharedLog(t, nil)
	rec := newRecorder(t, reply{code: 410, body: "endpoint deleted"})
	sec, _ := newSecret(t)
	hook := func(url string) ReceiverConfig {
		return ReceiverConfig{Name: "ops", Kind: KindWebhook, Webhook: &WebhookConfig{URL: url, Secrets: []secret.String{sec}}}
	}
	workers := map[string]*Worker{}
	recv := map[string]*Receivers{}
	for _, name := range []string{"a", "b", "moved"} {
		url := rec.URL + "/ops"
		if name == "moved" {
			url = rec.URL + "/ops-new"
		}
		recv[name] = built(t, hook(url))
		o := fastOptions(name)
		o.Gone = l
		workers[name] = newWorker(t, l, recv[name], o)
	}
	if err := workers["a"].Deliver(ctx, sample()); err != nil {
		t.Fatal(err)
	}
	if _, off := recv["a"].DisabledReason("ops"); !off {
		t.Fatal("a: not disabled by its own 410")
	}
	marks, err := l.GoneMarks(ctx)
	if err != nil || marks["ops"].Fingerprint == "" || marks["ops"].Reason == "" {
		t.Fatalf("marks %+v, %v", marks, err)
	}
	for _, name := range []string{"b", "moved"} {
		if err := workers[name].Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if reason, off := recv["b"].DisabledReason("ops"); !off || reason != marks["ops"].Reason {
		t.Errorf("b after its sweep: disabled=%v %q, want the 410 from a", off, reason)
	}
	if _, off := recv["moved"].DisabledReason("ops"); off {
		t.Error("a receiver with another URL took the mark")
	}
	// b dead-letters without a request.
	if err := workers["b"].Deliver(ctx, resolvedSample()); err != nil {
		t.Fatal(err)
	}
	if n := len(rec.requests()); n != 1 {
		t.Errorf("%d requests, want only a's", n)
	}

	if err := l.ClearGone(ctx, "ops"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if err := workers[name].Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		if _, off := recv[name].DisabledReason("ops"); off {
			t.Errorf("%s still disabled after the mark was cleared", name)
		}
	}
	n := sample()
	n.ID = "ntf_after_enable"
	if err := workers["b"].Deliver(ctx, n); err != nil {
		t.Fatal(err)
	}
	if e, ok := entryOf(t, l, EntryDelivered, n.ID); !ok || e.Attempts != 1 {
		t.Errorf("after enable: %+v, %v", e, ok)
	}
}
