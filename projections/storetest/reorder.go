package storetest

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

// TestRedeliveryAndReordering: all events applied in a random order, each
// twice, give the same status, alerts and metrics as applied once in
// order. The history keeps no duplicate and nothing that was not checked;
// it leaves out a check that arrives after a newer one of its target
// (TestHistoryQuery shows redelivery in order keeps it whole).
func testRedeliveryAndReordering(t *testing.T, be Backend) {
	for seed := range uint64(4) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			contract2(t, be, Options{}, func(t *testing.T, once, twice *fixture) {
				r := rand.New(rand.NewPCG(seed, 42))
				base := time.Now().Add(-2 * time.Hour).UnixMilli()
				changes, checks := scenario(r, base)
				for _, fx := range []*fixture{once, twice} {
					fx.clock.Set(time.UnixMilli(base).Add(3 * time.Hour))
				}
				var evs []any
				for _, c := range changes {
					once.handle(t, c)
					evs = append(evs, c, c)
				}
				for _, c := range checks {
					once.handle(t, c)
					evs = append(evs, c, c)
				}
				r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
				twice.handle(t, evs...)

				a, b := readModels(t, once), readModels(t, twice)
				for _, k := range []string{"status", "alerts", "firing", "metrics"} {
					if !reflect.DeepEqual(a[k], b[k]) {
						t.Errorf("%s differs:\nonce in order: %+v\ntwice shuffled: %+v", k, a[k], b[k])
					}
				}
				for _, k := range []string{"history postgres", "history redis"} {
					want := map[string]bool{}
					for _, it := range a[k].([]projections.HistoryItem) {
						want[it.Name+it.CheckedAt.String()] = true
					}
					seen := map[string]bool{}
					for _, it := range b[k].([]projections.HistoryItem) {
						id := it.Name + it.CheckedAt.String()
						if !want[id] || seen[id] {
							t.Errorf("%s: unexpected or duplicate item %+v", k, it)
						}
						seen[id] = true
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
