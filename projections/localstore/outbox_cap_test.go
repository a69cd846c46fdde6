package localstore

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/projections/storetest"
	"github.com/dbhealth/database-service/testsupport/logrec"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// With the outbox at its cap, a check that would add a transition is
// refused: the machine and the read models do not move, nothing is
// appended nor handed to OnChecked, the refusal is counted and logged at
// ERROR. Once the relay drained the outbox, the next checks make the
// transitions, each published exactly once.
func TestApplyRefusedWhenOutboxFull(t *testing.T) {
	log, rec := logrec.New()
	limit := projections.NewOutboxLimit(2, log)
	var checked int
	s := openTest(t, Options{Replica: "r1", Source: "/test", OutboxLimit: limit,
		OnChecked: func(hs []events.HealthChecked) { checked += len(hs) }})
	ctx := context.Background()
	probe(t, s, target("a"), probes.StateUp)
	probe(t, s, target("b"), probes.StateUp) // the outbox is full
	if o := probe(t, s, target("new"), probes.StateUp); !o.Refused {
		t.Fatal("a transition beyond the cap was not refused")
	}
	if _, ok := s.machine("postgres/new"); ok {
		t.Fatal("a refused check created a machine")
	}
	a := target("a") // failure threshold 2
	probe(t, s, a, probes.StateDown)
	before := mustMachine(t, s, "postgres/a")
	if o := probe(t, s, a, probes.StateDown); !o.Refused || o.Bad {
		t.Fatalf("second DOWN under a full outbox: %+v", o)
	}
	if m := mustMachine(t, s, "postgres/a"); m != before {
		t.Fatalf("a refused check moved the machine from %+v to %+v", before, m)
	}
	if st, _ := s.StatusesOf(ctx, "postgres"); len(st) != 2 || st[0].State != "UP" || st[1].State != "UP" {
		t.Fatalf("statuses %+v", st)
	}
	if n, _ := s.OutboxLen(ctx); n != 2 || checked != 3 || limit.RefusedTotal() != 2 {
		t.Fatalf("outbox %d, %d checks handed on, %d refused; want 2, 3, 2", n, checked, limit.RefusedTotal())
	}
	lines := rec.Records(slog.LevelError, "outbox full: transitions refused until the relay drains it")
	if len(lines) != 1 || lines[0].Attrs["length"] != int64(2) || lines[0].Attrs["setting"] != "OUTBOX_MAX_LENGTH" {
		t.Fatalf("ERROR lines %+v, want one with length 2", lines)
	}

	pub := &storetest.Publisher{}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.RunRelay(rctx, pub) }()
	defer func() { cancel(); <-done }()
	wait.Eventually(t, 5*time.Second, "the outbox drained", wait.Bool(func() bool { n, _ := s.OutboxLen(ctx); return n == 0 && len(pub.IDs()) == 2 }))

	if o := probe(t, s, target("new"), probes.StateUp); o.Refused {
		t.Fatal("refused after the outbox drained")
	}
	if o := probe(t, s, a, probes.StateDown); o.Refused || !o.Bad {
		t.Fatalf("a after the outbox drained: %+v", o)
	}
	wait.Eventually(t, 5*time.Second, "the new transitions published", wait.Bool(func() bool { n, _ := s.OutboxLen(ctx); return n == 0 && len(pub.IDs()) == 4 }))
	time.Sleep(50 * time.Millisecond)
	seen := pub.Counts()
	want := fmt.Sprintf("postgres/a:%d:2", mustMachine(t, s, "postgres/a").Epoch)
	if len(seen) != 4 || seen[want] != 1 {
		t.Fatalf("published %v, want 4 distinct transitions once each, %s among them", seen, want)
	}
}
