package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// scenario generates what the coordinator would emit for a few targets:
// per target a chain of transitions (seq+1, from = previous to) over one
// or two epochs, and checks every second whose state follows the stable
// one. Transitions and checks are returned in emission order.
func scenario(r *rand.Rand, base int64) (changes []events.StateChanged, checks []events.HealthChecked) {
	states := []string{"UP", "DEGRADED", "DOWN"}
	for ti := range 3 {
		t := ref([]string{"postgres", "redis"}[ti%2], fmt.Sprint("t", ti))
		at := base
		epochs := []int64{base - 100_000}
		if ti == 0 {
			epochs = append(epochs, base+500_000) // the coordinator lost its state
		}
		for ei, epoch := range epochs {
			if ei == 1 {
				at = epoch
			}
			from := "UNKNOWN"
			for seq := int64(1); seq <= int64(6+r.IntN(8)); seq++ {
				to := states[r.IntN(3)]
				for to == from {
					to = states[r.IntN(3)]
				}
				for range 1 + r.IntN(4) {
					at += 1000
					checks = append(checks, checked(t, from, at, float64(r.IntN(50))))
				}
				at += 1000
				sc := changed(t, epoch, seq, from, to, at)
				changes = append(changes, sc)
				checks = append(checks, sc.Check)
				from = to
			}
		}
	}
	return changes, checks
}

// TestRedeliveryAndReordering: the transitions applied in a random order,
// each twice, give the same status and alerts as applied once in order;
// checks delivered twice (each target's in order, targets interleaved)
// give the same status, history and metrics.
func TestRedeliveryAndReordering(t *testing.T) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			contract2(t, Options{}, func(t *testing.T, once, twice *fixture) {
				r := rand.New(rand.NewPCG(seed, 42))
				base := time.Now().Add(-2 * time.Hour).UnixMilli()
				changes, checks := scenario(r, base)
				for _, fx := range []*fixture{once, twice} {
					fx.clock.Set(time.UnixMilli(base).Add(3 * time.Hour))
				}
				for _, c := range changes {
					once.handle(t, c)
				}
				for _, c := range checks {
					once.handle(t, c)
				}

				var evs []any
				for _, c := range changes {
					evs = append(evs, c, c)
				}
				r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
				twice.handle(t, evs...)
				// Checks: each twice, each target's in order, interleaved.
				queues := map[events.TargetRef][]events.HealthChecked{}
				var order []events.TargetRef
				for _, c := range checks {
					if _, ok := queues[c.Target]; !ok {
						order = append(order, c.Target)
					}
					queues[c.Target] = append(queues[c.Target], c, c)
				}
				for len(order) > 0 {
					i := r.IntN(len(order))
					q := queues[order[i]]
					twice.handle(t, q[0])
					if queues[order[i]] = q[1:]; len(q) == 1 {
						order = append(order[:i], order[i+1:]...)
					}
				}

				a, b := readModels(t, once), readModels(t, twice)
				for k := range a {
					if !reflect.DeepEqual(a[k], b[k]) {
						t.Errorf("%s differs:\nonce in order: %+v\ntwice shuffled: %+v", k, a[k], b[k])
					}
				}
				if n := len(a["alerts"].([]projections.Alert)); n == 0 {
					t.Error("the scenario opened no alert: it proves nothing")
				}
			})
		})
	}
}

// readModels reads every read model of a fixture.
func readModels(t *testing.T, fx *fixture) map[string]any {
	t.Helper()
	ctx := context.Background()
	st, err := fx.store.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	al, err := fx.store.Alerts(ctx, projections.AlertQuery{State: "all", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n, err := fx.store.Firing(ctx)
	if err != nil {
		t.Fatal(err)
	}
	me, err := fx.store.AllMetrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{"status": st, "alerts": al, "firing": n, "metrics": me}
	for _, kind := range []string{"postgres", "redis"} {
		h, err := fx.store.History(ctx, projections.HistoryQuery{Type: kind, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		out["history "+kind] = h.Items
	}
	return out
}
