package storetest

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
)

// testProjectChecks: checks projected in batches (with redeliveries and
// a check late behind a newer one) give the same status, history and
// metrics as the same checks through the single-event handlers.
func testProjectChecks(t *testing.T, be Backend) {
	contract2(t, be, Options{}, func(t *testing.T, single, batched *fixture) {
		ctx := context.Background()
		r := rand.New(rand.NewPCG(3, 4))
		base := single.clock.Now().Add(-time.Hour).UnixMilli()
		batched.clock.Set(single.clock.Now())
		var hs []events.HealthChecked
		for i := range 60 {
			for _, n := range []string{"a", "b"} {
				state := []string{"UP", "DEGRADED", "DOWN"}[r.IntN(3)]
				hs = append(hs, checked(ref("redis", n), state, base+int64(i)*1000, float64(r.IntN(40))))
			}
		}
		// Deliveries: in order, with some redelivered and one late.
		deliver := append([]events.HealthChecked(nil), hs...)
		deliver = append(deliver, hs[10], hs[11], hs[50])
		deliver[70], deliver[71] = deliver[71], deliver[70]
		for _, h := range deliver {
			single.handle(t, h)
		}
		for i := 0; i < len(deliver); i += 25 {
			if err := batched.store.ProjectChecks(ctx, deliver[i:min(i+25, len(deliver))]); err != nil {
				t.Fatal(err)
			}
		}
		a, b := readModels(t, single), readModels(t, batched)
		for _, k := range []string{"status", "metrics", "history redis"} {
			if !reflect.DeepEqual(a[k], b[k]) {
				t.Errorf("%s differs:\nsingle:  %+v\nbatched: %+v", k, a[k], b[k])
			}
		}
		if err := batched.store.ProjectChecks(ctx, nil); err != nil {
			t.Fatalf("empty batch: %v", err)
		}
	})
}
