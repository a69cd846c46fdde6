package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

func testAlertLifecycle(t *testing.T, fx *fixture) {
	ctx := context.Background()
	pg := ref("postgres", "main")
	const e = 1700000000000
	at := time.Now().Add(-time.Hour).UnixMilli()
	steps := []struct {
		ev     events.StateChanged
		firing []string // ids:severity of firing alerts after the step
	}{
		{changed(pg, e, 1, "UNKNOWN", "UP", at), nil},
		{changed(pg, e, 2, "UP", "DEGRADED", at+1000), []string{"postgres/main:1700000000000:2:warning"}},
		{changed(pg, e, 3, "DEGRADED", "DOWN", at+2000), []string{"postgres/main:1700000000000:2:critical"}},
		{changed(pg, e, 4, "DOWN", "DEGRADED", at+3000), []string{"postgres/main:1700000000000:2:warning"}},
		{changed(pg, e, 5, "DEGRADED", "UP", at+4000), nil},
		{changed(pg, e, 6, "UP", "DOWN", at+5000), []string{"postgres/main:1700000000000:6:critical"}},
	}
	for i, s := range steps {
		fx.handle(t, s.ev)
		fx.handle(t, s.ev) // redelivered at once
		if got := firing(t, fx); !slices.Equal(got, s.firing) {
			t.Fatalf("step %d (%s): firing = %v, want %v", i, s.ev.ID(), got, s.firing)
		}
	}
	all := alerts(t, fx, "all")
	if len(all) != 2 || all[0].ID != "postgres/main:1700000000000:6" || all[1].ID != "postgres/main:1700000000000:2" {
		t.Fatalf("all alerts = %+v", all)
	}
	res := all[1]
	if res.State != "resolved" || res.Severity != "warning" || res.Reason != "now DEGRADED" ||
		!res.StartedAt.Equal(time.UnixMilli(at+1000)) || res.ResolvedAt == nil || !res.ResolvedAt.Equal(time.UnixMilli(at+4000)) {
		t.Fatalf("resolved alert = %+v", res)
	}
	if all[0].ResolvedAt != nil || all[0].State != "firing" || all[0].Type != "postgres" || all[0].Name != "main" {
		t.Fatalf("firing alert = %+v", all[0])
	}
	if n, err := fx.store.Firing(ctx); err != nil || n != 1 {
		t.Fatalf("Firing = %d, %v", n, err)
	}
	if r := alerts(t, fx, "resolved"); len(r) != 1 || r[0].ID != res.ID {
		t.Fatalf("resolved = %+v", r)
	}
	// Redelivering the whole sequence again changes nothing.
	for _, s := range steps {
		fx.handle(t, s.ev)
	}
	if again := alerts(t, fx, "all"); fmt.Sprint(again) != fmt.Sprint(all) {
		t.Fatalf("after redelivery %+v, want %+v", again, all)
	}
}

func testAlertInitial(t *testing.T, fx *fixture) {
	at := time.Now().UnixMilli()
	fx.handle(t, changed(ref("redis", "up"), 7, 1, "UNKNOWN", "UP", at))
	fx.handle(t, changed(ref("redis", "down"), 7, 1, "UNKNOWN", "DOWN", at))
	fx.handle(t, changed(ref("redis", "degraded"), 7, 1, "UNKNOWN", "DEGRADED", at))
	got := firing(t, fx)
	slices.Sort(got)
	want := []string{"redis/degraded:7:1:warning", "redis/down:7:1:critical"}
	if !slices.Equal(got, want) {
		t.Fatalf("firing = %v, want %v (initial UP opens nothing)", got, want)
	}
}

func testAlertReordered(t *testing.T, be Backend) {
	pg := ref("postgres", "main")
	at := time.Now().UnixMilli()
	seq := []events.StateChanged{
		changed(pg, 3, 1, "UNKNOWN", "UP", at),
		changed(pg, 3, 2, "UP", "DOWN", at+1000),
		changed(pg, 3, 3, "DOWN", "DEGRADED", at+2000),
		changed(pg, 3, 4, "DEGRADED", "UP", at+3000),
		changed(pg, 3, 5, "UP", "DEGRADED", at+4000),
	}
	for _, order := range [][]int{{0, 1, 2, 3, 4}, {3, 1, 0, 4, 2}, {4, 3, 2, 1, 0}, {0, 3, 2, 1, 4}, {2, 3, 4, 0, 1}} {
		t.Run(fmt.Sprint(order), func(t *testing.T) {
			contract(t, be, Options{}, func(t *testing.T, fx *fixture) {
				for _, j := range order {
					fx.handle(t, seq[j])
				}
				all := alerts(t, fx, "all")
				if len(all) != 2 {
					t.Fatalf("alerts = %+v", all)
				}
				first, second := all[1], all[0]
				if first.ID != "postgres/main:3:2" || first.State != "resolved" || first.Severity != "warning" ||
					!first.ResolvedAt.Equal(time.UnixMilli(at+3000)) {
					t.Fatalf("first incident = %+v", first)
				}
				if second.ID != "postgres/main:3:5" || second.State != "firing" || second.Severity != "warning" {
					t.Fatalf("second incident = %+v", second)
				}
			})
		})
	}
}

func testAlertNewEpoch(t *testing.T, be Backend) {
	pg := ref("postgres", "main")
	at := time.Now().UnixMilli()
	e1, e2 := at-60_000, at
	old := changed(pg, e1, 4, "UP", "DOWN", at-30_000)
	fresh := changed(pg, e2, 1, "UNKNOWN", "UP", at+1000)
	for name, order := range map[string][]events.StateChanged{"in order": {old, fresh}, "reversed": {fresh, old}} {
		t.Run(name, func(t *testing.T) {
			contract(t, be, Options{}, func(t *testing.T, fx *fixture) {
				fx.handle(t, order[0], order[1])
				all := alerts(t, fx, "all")
				if len(all) != 1 || all[0].State != "resolved" || !all[0].ResolvedAt.Equal(time.UnixMilli(e2)) {
					t.Fatalf("the old epoch's incident should be resolved at the new epoch's start: %+v", all)
				}
				if n, _ := fx.store.Firing(context.Background()); n != 0 {
					t.Fatalf("firing = %d", n)
				}
			})
		})
	}
}

func testAlertRetention(t *testing.T, fx *fixture) {
	ctx := context.Background()
	pg, es := ref("postgres", "main"), ref("elasticsearch", "logs")
	now := fx.clock.Now().UnixMilli()
	old := []events.StateChanged{
		changed(pg, 1, 1, "UNKNOWN", "DOWN", now-3000),
		changed(pg, 1, 2, "DOWN", "UP", now-2000),
	}
	fx.handle(t, old[0], old[1], changed(es, 1, 1, "UNKNOWN", "DOWN", now-1000))
	if all := alerts(t, fx, "all"); len(all) != 2 {
		t.Fatalf("alerts = %+v", all)
	}
	fx.clock.Add(2 * time.Hour)
	// Out of retention: hidden at once, pruned at the next transition.
	if r := alerts(t, fx, "resolved"); len(r) != 0 {
		t.Fatalf("resolved after retention = %+v", r)
	}
	all := alerts(t, fx, "all")
	if len(all) != 1 || all[0].Name != "logs" || all[0].State != "firing" {
		t.Fatalf("all after retention = %+v (firing alerts are kept)", all)
	}
	fx.handle(t, changed(es, 1, 2, "DOWN", "DEGRADED", now))
	id := "postgres/main:1:1"
	if fx.be.AlertKept(fx.store, id, "postgres", "main") {
		t.Fatalf("pruned alert %s: some of it is still stored", id)
	}
	// Redelivered transitions of a pruned incident do not bring it back.
	fx.handle(t, old[0], old[1])
	if all := alerts(t, fx, "all"); len(all) != 1 {
		t.Fatalf("pruned incident came back: %+v", all)
	}
	if n, _ := fx.store.Firing(ctx); n != 1 {
		t.Fatalf("firing = %d, want 1", n)
	}
}

func testAlertQuery(t *testing.T, fx *fixture) {
	ctx := context.Background()
	at := time.Now().UnixMilli()
	for i := range 5 {
		r := ref("nacos", fmt.Sprint("n", i))
		fx.handle(t, changed(r, 1, 1, "UNKNOWN", "DOWN", at+int64(i)*1000))
		if i%2 == 0 {
			fx.handle(t, changed(r, 1, 2, "DOWN", "UP", at+10_000-int64(i)*1000))
		}
	}
	ids := func(as []projections.Alert) (out []string) {
		for _, a := range as {
			out = append(out, a.Name)
		}
		return out
	}
	for _, c := range []struct {
		q    projections.AlertQuery
		want []string
	}{
		{projections.AlertQuery{}, []string{"n4", "n3", "n2", "n1", "n0"}},
		{projections.AlertQuery{State: "all", Limit: 2}, []string{"n4", "n3"}},
		{projections.AlertQuery{State: "firing"}, []string{"n3", "n1"}},
		// resolved: by resolution time, newest first
		{projections.AlertQuery{State: "resolved"}, []string{"n0", "n2", "n4"}},
		{projections.AlertQuery{State: "resolved", Limit: 1}, []string{"n0"}},
	} {
		got, err := fx.store.Alerts(ctx, c.q)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(ids(got), c.want) {
			t.Errorf("Alerts(%+v) = %v, want %v", c.q, ids(got), c.want)
		}
	}
	if _, err := fx.store.Alerts(ctx, projections.AlertQuery{State: "open"}); !errors.Is(err, projections.ErrBadQuery) {
		t.Fatalf("bad state: err = %v, want ErrBadQuery", err)
	}
}
