package bus

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections/coord"
	"github.com/dbhealth/database-service/testsupport/logrec"
	"github.com/dbhealth/database-service/testsupport/redistest"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// The outbox relay over the real bus, with the group queue and the
// unrouted queue deleted behind the bus's back: the transition's publish
// fails, the relay keeps the entry and retries, and once the topology is
// declared again the transition reaches the group queue exactly once.
func TestRabbitRelayKeepsReturnedTransition(t *testing.T) {
	cfg, b, group := unrunBus(t)
	rdb := redistest.Machine(t)
	ctx, cancel := context.WithCancel(context.Background())
	prefix := redistest.Prefix(t, rdb, "test-bus-relay")
	defer cancel()
	getAll(t, group)
	deleteQueues(t, group, cfg.UnroutedExchange())

	tg := probes.Target{Kind: probes.Redis, Name: "cache", Interval: time.Second}
	a := coord.NewApplier(rdb, prefix, "r1", "/test", nil, nil, nil)
	if _, err := a.Apply(ctx, []probes.Check{{Slot: 1000, Result: probes.Result{Target: tg, State: probes.StateUp, CheckedAt: time.UnixMilli(1000)}}}); err != nil {
		t.Fatal(err)
	}
	log, rec := logrec.New()
	relay := coord.NewRelay(rdb, prefix, "r1", "/test", b,
		coord.RelayOptions{Block: 50 * time.Millisecond, Backoff: 200 * time.Millisecond}, log)
	done := make(chan struct{})
	go func() { defer close(done); _ = relay.Run(ctx) }()
	wait.Eventually(t, 10*time.Second, "the outbox drained", wait.Bool(func() bool { n, _ := relay.Len(ctx); return n == 0 }))
	cancel()
	<-done
	if n := len(rec.Records(slog.LevelWarn, "outbox publish failed; retrying")); n == 0 {
		t.Fatal("the relay's first publish did not fail")
	}
	ids := getAll(t, group)
	if len(ids) != 1 || ids[0] != fmt.Sprintf("redis/cache:%s:1", epochOf(t, rdb, prefix, tg.ID())) {
		t.Fatalf("group queue holds %v, want the transition once", ids)
	}
}

// epochOf reads a target's epoch from the coordinator's state hash.
func epochOf(t *testing.T, rdb *redis.Client, prefix, id string) string {
	t.Helper()
	e, err := rdb.HGet(context.Background(), coord.Keys{Prefix: prefix}.State(id), "epoch").Result()
	if err != nil {
		t.Fatal(err)
	}
	return e
}
