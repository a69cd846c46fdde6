package coord

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/testsupport/redistest"
)

// TestApplyScriptFollowsDecide runs generated observation sequences (with
// redelivered and reordered slots, lost state, and an outbox cap that is
// sometimes reached and drained) through the apply script on the
// machine's Redis and through projections.DecideCapped, and requires the
// same outcome, transition and state after every step.
func TestApplyScriptFollowsDecide(t *testing.T) {
	rdb := redistest.Machine(t)
	ctx := context.Background()
	prefix := redistest.Prefix(t, rdb, "test-coord-diff")
	if err := applyBatchScript.Load(ctx, rdb).Err(); err != nil {
		t.Fatal(err)
	}
	states := []probes.State{probes.StateUp, probes.StateDegraded, probes.StateDown}
	reasons := []string{"timeout", "refused", "connections 95%", "lag 40s"}
	steps, refusals := 0, 0
	for seq := range 1000 {
		r := rand.New(rand.NewPCG(uint64(seq), 99))
		tg := target(fmt.Sprint("d", seq))
		tg.FailureThreshold, tg.SuccessThreshold = 1+r.IntN(4), 1+r.IntN(4)
		// Half the sequences run under a cap a few entries above the
		// outbox's length.
		var limit *projections.OutboxLimit
		if r.IntN(2) == 0 {
			n, err := rdb.XLen(ctx, Keys{prefix}.Outbox()).Result()
			if err != nil {
				t.Fatal(err)
			}
			limit = projections.NewOutboxLimit(n+1+r.Int64N(3), nil)
		}
		a := NewApplier(rdb, prefix, "r1", "/test", nil, limit, nil)
		th := projections.Thresholds{Failure: tg.FailureThreshold, Success: tg.SuccessThreshold}
		var m projections.Machine
		fresh := true
		var last int64
		var seen []int64
		cur := states[r.IntN(3)]
		for i := range 20 + r.IntN(60) {
			steps++
			slot := last + 1 + r.Int64N(3)
			switch p := r.IntN(100); {
			case p < 7 && len(seen) > 0: // redelivered
				slot = seen[r.IntN(len(seen))]
			case p < 11 && last > 5: // reordered
				slot = last - 1 - r.Int64N(5)
			case p < 15: // the store lost the state
				if err := rdb.Del(ctx, Keys{prefix}.State(tg.ID())).Err(); err != nil {
					t.Fatal(err)
				}
				fresh = true
			case p < 18 && limit != nil: // the relay drained the outbox
				if err := rdb.XTrimMaxLen(ctx, Keys{prefix}.Outbox(), 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			if r.IntN(3) == 0 {
				cur = states[r.IntN(3)]
			}
			reason := ""
			if cur != probes.StateUp {
				reason = reasons[r.IntN(len(reasons))]
			}
			c := check(tg, cur, slot)
			c.Result.Reason = reason
			c.Result.CheckedAt = time.UnixMilli(slot * 10)
			before, err := rdb.XLen(ctx, Keys{prefix}.Outbox()).Result()
			if err != nil {
				t.Fatal(err)
			}
			body, _ := json.Marshal(c.HealthChecked("r1"))
			res, err := a.run(ctx, []probes.Check{c}, [][]byte{body})
			if err != nil {
				t.Fatal(err)
			}
			got := res[0]
			wasFresh := fresh
			if fresh {
				m, fresh = projections.NewMachine(got.epoch), false
			}
			var st projections.Step
			m, st = projections.DecideCapped(m, projections.Observation{Slot: slot, State: string(cur), At: slot * 10, Reason: c.Reason()}, th,
				before, limit.Max())
			where := fmt.Sprintf("sequence %d step %d (%s@%d, thresholds %d/%d, outbox %d cap %d)", seq, i, cur, slot, th.Failure, th.Success, before, limit.Max())
			if got.ok != st.Applied || got.moved != st.Moved || got.pending != st.Pending || got.seq != m.Seq || got.epoch != m.Epoch ||
				got.bad != projections.Bad(m.Stable) || (got.refused > 0) != st.Refused {
				t.Fatalf("%s: script %+v, Decide %+v machine %+v", where, got, st, m)
			}
			if st.Refused {
				refusals++
				if got.refused != before {
					t.Fatalf("%s: refused at outbox length %d, want %d", where, got.refused, before)
				}
				if wasFresh {
					fresh = true // nothing was stored: the next apply starts an epoch again
				}
				if n, _ := rdb.XLen(ctx, Keys{prefix}.Outbox()).Result(); n != before {
					t.Fatalf("%s: a refused check changed the outbox from %d to %d", where, before, n)
				}
			}
			if slot > last && !st.Refused {
				last = slot
			}
			seen = append(seen, slot)
			if st.Moved {
				n, err := rdb.XLen(ctx, Keys{prefix}.Outbox()).Result()
				if err != nil || n != before+1 {
					t.Fatalf("%s: outbox grew from %d to %d (%v)", where, before, n, err)
				}
				top, err := rdb.XRevRangeN(ctx, Keys{prefix}.Outbox(), "+", "-", 1).Result()
				if err != nil || len(top) != 1 {
					t.Fatalf("%s: outbox top: %v", where, err)
				}
				sc, err := transitionFromEntry(top[0].Values)
				if err != nil {
					t.Fatal(err)
				}
				if sc.From != st.From || sc.To != st.To || sc.Reason != st.Reason || sc.Seq != st.Seq ||
					sc.Epoch != m.Epoch || sc.Initial != st.Initial || sc.At.UnixMilli() != slot*10 {
					t.Fatalf("%s: outbox entry %+v, Decide %+v", where, sc, st)
				}
			}
			h, err := rdb.HGetAll(ctx, Keys{prefix}.State(tg.ID())).Result()
			if err != nil {
				t.Fatal(err)
			}
			if fresh {
				if len(h) != 0 {
					t.Fatalf("%s: a refused first check stored %v", where, h)
				}
				continue
			}
			want := map[string]string{
				"stable": m.Stable, "cand": m.Cand, "count": strconv.Itoa(m.Count), "seq": strconv.FormatInt(m.Seq, 10),
				"epoch": strconv.FormatInt(m.Epoch, 10), "last_slot": strconv.FormatInt(m.LastSlot, 10), "creason": m.CandReason,
			}
			if m.Since != 0 {
				want["since"] = strconv.FormatInt(m.Since, 10)
			}
			for k, v := range want {
				if h[k] != v {
					t.Fatalf("%s: state field %s = %q, Decide's machine has %q (%+v)", where, k, h[k], v, m)
				}
			}
		}
	}
	t.Logf("%d steps agree, %d of them refused by the outbox cap", steps, refusals)
	if refusals == 0 {
		t.Error("no step reached the outbox cap")
	}
}
