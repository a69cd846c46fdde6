package stores_test

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/projections/stores"
)

// publisher records what the store publishes.
type publisher struct {
	mu      sync.Mutex
	checked []events.Envelope
}

func (p *publisher) Publish(context.Context, ...events.Envelope) error { return nil }

func (p *publisher) PublishAsync(e events.Envelope) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.checked = append(p.checked, e)
	return true
}

func (p *publisher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.checked)
}

// The embedded store projects as it applies, and publishes the checks it
// applied only while they are wanted.
func TestEmbeddedPublishesChecksWhileWanted(t *testing.T) {
	env := map[string]string{"APP_ENV": "test", "BUS_URL": "", "STORE_URL": "", "DATA_DIR": t.TempDir(), "REPLICA_ID": "r1"}
	for _, k := range []string{"POSTGRES", "ELASTICSEARCH", "MILVUS", "REDIS", "NACOS", "RABBITMQ"} {
		env[k+"_ENABLED"] = "false"
	}
	cfg, err := config.Load(config.LoadOptions{Dir: t.TempDir(), Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	pub := &publisher{}
	var want atomic.Bool
	st, err := stores.Open(t.Context(), cfg, stores.Options{
		Publisher: pub, Source: "/test", OutboxLimit: projections.NewOutboxLimit(100, nil),
		WantChecked: want.Load, Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	if st.Projected || st.SharedRelay != nil || st.Decided != nil {
		t.Errorf("embedded store: projected %v, relay %v, decided %v; want none", st.Projected, st.SharedRelay, st.Decided != nil)
	}
	tg := probes.Target{Kind: probes.Redis, Name: "cache", FailureThreshold: 1, SuccessThreshold: 1}
	apply := func(slot int64) {
		t.Helper()
		r := probes.Result{Target: tg, State: probes.StateUp, CheckedAt: time.UnixMilli(slot)}
		if _, err := st.Sink.Apply(t.Context(), []probes.Check{{Result: r, Slot: slot, Trigger: probes.TriggerSchedule}}); err != nil {
			t.Fatal(err)
		}
	}
	apply(1000)
	if n := pub.count(); n != 0 {
		t.Errorf("%d checks published while none is wanted", n)
	}
	want.Store(true)
	apply(2000)
	if n := pub.count(); n != 1 || pub.checked[0].Type != events.TypeHealthChecked {
		t.Errorf("published %d (%v) while wanted, want one HealthChecked", n, pub.checked)
	}
	if _, err := st.Status(func() []probes.Target { return []probes.Target{tg} }).Statuses(t.Context()); err != nil {
		t.Errorf("Statuses: %v", err)
	}
}
