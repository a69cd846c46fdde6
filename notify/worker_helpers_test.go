package notify

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/testsupport/redistest"
)

// sharedLog is a RedisLog under a fresh prefix on the machine's Redis.
func sharedLog(t *testing.T, now func() time.Time) *RedisLog {
	t.Helper()
	rdb := redistest.Machine(t)
	l, err := NewRedisLog(rdb, redistest.Prefix(t, rdb, "notifyworker"), now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// hookReceiver is a webhook receiver named name posting to rec.
func hookReceiver(t *testing.T, name string, rec *recorder, route Route) Receiver {
	t.Helper()
	sec, _ := newSecret(t)
	w, err := NewWebhook(WebhookConfig{URL: rec.URL + "/" + name, Secrets: []secret.String{sec}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	return Receiver{Name: name, Kind: KindWebhook, Route: route, Sender: w}
}

func registry(t *testing.T, rs ...Receiver) *Receivers {
	t.Helper()
	r, err := NewReceivers(rs)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fastOptions are worker options for tests: millisecond polls and backoff.
func fastOptions(owner string) WorkerOptions {
	return WorkerOptions{Owner: owner, Poll: 10 * time.Millisecond, BackoffBase: 10 * time.Millisecond,
		BackoffMax: 40 * time.Millisecond, HoldRecheck: 10 * time.Millisecond, Lease: 2 * time.Second, AttemptTimeout: time.Second}
}

func newWorker(t *testing.T, l Log, rs *Receivers, o WorkerOptions) *Worker {
	t.Helper()
	w, err := NewWorker(l, rs, o)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// run runs w until the test ends (or the returned cancel is called).
func run(t *testing.T, w interface{ Run(context.Context) error }) context.CancelFunc {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = w.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return cancel
}

func testMetrics(t *testing.T, l Pender) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, PendingFunc(l, time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// entryOf finds id in state.
func entryOf(t *testing.T, l Log, state EntryState, id string) (Entry, bool) {
	t.Helper()
	es, err := l.List(context.Background(), state, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Notification.ID == id {
			return e, true
		}
	}
	return Entry{}, false
}

// webhookIDs are the webhook-id headers of reqs.
func webhookIDs(reqs []recorded) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Header.Get("webhook-id"))
	}
	return out
}

// bodies decodes the notifications rec received.
func bodies(t *testing.T, reqs []recorded) []Notification {
	t.Helper()
	var out []Notification
	for _, r := range reqs {
		var n Notification
		if err := json.Unmarshal(r.Body, &n); err != nil {
			t.Fatalf("body %q: %v", r.Body, err)
		}
		out = append(out, n)
	}
	return out
}

// toggleMuter mutes everything while on.
type toggleMuter struct{ on atomic.Bool }

func (m *toggleMuter) Muted(Notification) (string, bool) { return "silence s-1", m.on.Load() }

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// gaugeValue is the value of the unlabelled gauge name in reg.
func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) == 1 {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no gauge %s", name)
	return 0
}
