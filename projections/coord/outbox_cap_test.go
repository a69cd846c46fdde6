package coord

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/projections/storetest"
	"github.com/dbhealth/database-service/testsupport/logrec"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// With the outbox at its cap, a check that would add a transition is
// refused by the apply script: the state does not move, nothing is
// appended, the outcome says Refused, the refusal is counted and logged
// at ERROR. Once the relay drained the outbox, the next checks make the
// transitions, and each is published exactly once.
func TestApplyRefusedWhenOutboxFull(t *testing.T) {
	stores(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		log, rec := logrec.New()
		limit := projections.NewOutboxLimit(3, log)
		a := NewApplier(rdb, prefix, "r1", "/test", nil, limit, nil)
		apply := func(tg probes.Target, s probes.State, slot int64) probes.Outcome {
			t.Helper()
			out, err := a.Apply(ctx, []probes.Check{check(tg, s, slot)})
			if err != nil {
				t.Fatal(err)
			}
			return out[0]
		}
		for i := range 3 { // three initial transitions fill the outbox
			if o := apply(target(fmt.Sprint("db", i)), probes.StateUp, 1000); o.Refused {
				t.Fatalf("db%d refused below the cap", i)
			}
		}
		// A new target's initial transition is refused: no state at all.
		if o := apply(target("new"), probes.StateUp, 1000); !o.Refused {
			t.Fatal("a transition beyond the cap was not refused")
		}
		if n, _ := rdb.Exists(ctx, Keys{prefix}.State(target("new").ID())).Result(); n != 0 {
			t.Fatal("a refused check stored a state")
		}
		// db0 goes DOWN: two checks count (no transition yet), the third
		// would move and is refused with the state as it was.
		db0 := target("db0")
		apply(db0, probes.StateDown, 2000)
		apply(db0, probes.StateDown, 3000)
		before, _ := rdb.HGetAll(ctx, Keys{prefix}.State(db0.ID())).Result()
		if o := apply(db0, probes.StateDown, 4000); !o.Refused || o.Bad {
			t.Fatalf("third DOWN under a full outbox: %+v", o)
		}
		after, _ := rdb.HGetAll(ctx, Keys{prefix}.State(db0.ID())).Result()
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Fatalf("a refused check changed the state from %v to %v", before, after)
		}
		if n := len(outbox(t, rdb, prefix)); n != 3 {
			t.Fatalf("outbox %d entries, want 3", n)
		}
		if limit.RefusedTotal() != 2 {
			t.Fatalf("RefusedTotal %d, want 2", limit.RefusedTotal())
		}
		lines := rec.Records(slog.LevelError, "outbox full: transitions refused until the relay drains it")
		if len(lines) != 1 || lines[0].Attrs["length"] != int64(3) || lines[0].Attrs["setting"] != "OUTBOX_MAX_LENGTH" {
			t.Fatalf("ERROR lines %+v, want one with length 3", lines)
		}

		pub := &storetest.Publisher{}
		relay := NewRelay(rdb, prefix, "r1", "/test", pub,
			RelayOptions{Block: 50 * time.Millisecond, Backoff: 20 * time.Millisecond}, nil)
		done := make(chan struct{})
		go func() { defer close(done); _ = relay.Run(ctx) }()
		wait.Eventually(t, 5*time.Second, "the condition", wait.Bool(func() bool { n, _ := relay.Len(ctx); return n == 0 && len(pub.IDs()) == 3 }))

		// The targets are probed again: the transitions are made now.
		if o := apply(target("new"), probes.StateUp, 5000); o.Refused {
			t.Fatal("refused after the outbox drained")
		}
		if o := apply(db0, probes.StateDown, 5000); o.Refused || !o.Bad {
			t.Fatalf("db0 after the outbox drained: %+v", o)
		}
		wait.Eventually(t, 5*time.Second, "the condition", wait.Bool(func() bool { n, _ := relay.Len(ctx); return n == 0 && len(pub.IDs()) == 5 }))
		time.Sleep(100 * time.Millisecond)
		seen := pub.Counts()
		if len(seen) != 5 {
			t.Fatalf("published %v, want 5 distinct transitions once each", seen)
		}
		if n := len(rec.Records(slog.LevelInfo, "outbox below its cap again; transitions accepted")); n != 1 {
			t.Fatalf("%d end-of-episode lines, want 1", n)
		}
		cancel()
		<-done
	})
}
