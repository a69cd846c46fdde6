package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// historyFixture loads checks of postgres/a, b, c (b only every other
// slot; slots shared, as a batch of claims shares one) and one redis
// target, each delivered twice, and returns the expected postgres history
// newest first.
func historyFixture(t *testing.T, fx *fixture) (base int64, want []projections.HistoryItem) {
	base = fx.clock.Now().Add(-time.Hour).UnixMilli()
	var evs []any
	for i := range 10 {
		slot := base + int64(i)*1000
		for _, n := range []string{"c", "a", "b"} {
			if n == "b" && i%2 == 1 {
				continue
			}
			state := []string{"UP", "DEGRADED", "DOWN"}[(i+len(n))%3]
			evs = append(evs, checked(ref("postgres", n), state, slot, float64(i)+0.5))
		}
		evs = append(evs, checked(ref("redis", "cache"), "UP", slot, 1))
	}
	for _, ev := range evs {
		fx.handle(t, ev, ev)
	}
	for i := 9; i >= 0; i-- {
		for _, n := range []string{"a", "b", "c"} {
			if n == "b" && i%2 == 1 {
				continue
			}
			h := checked(ref("postgres", n), []string{"UP", "DEGRADED", "DOWN"}[(i+len(n))%3], base+int64(i)*1000, float64(i)+0.5)
			want = append(want, item(h))
		}
	}
	return base, want
}

func item(h events.HealthChecked) projections.HistoryItem {
	return projections.HistoryItem{Type: h.Target.Type, Name: h.Target.Name, State: h.State, CheckedAt: h.CheckedAt,
		LatencyMS: h.LatencyMS, ErrorKind: h.ErrorKind, Error: h.Error, Prober: h.Prober}
}

func testHistoryQuery(t *testing.T, fx *fixture) {
	ctx := context.Background()
	base, want := historyFixture(t, fx)
	at := func(i int) time.Time { return time.UnixMilli(base + int64(i)*1000) }
	filter := func(keep func(projections.HistoryItem) bool) (out []projections.HistoryItem) {
		for _, it := range want {
			if keep(it) {
				out = append(out, it)
			}
		}
		return out
	}
	for _, c := range []struct {
		name string
		q    projections.HistoryQuery
		want []projections.HistoryItem
	}{
		{"kind", projections.HistoryQuery{Type: "postgres", Limit: 1000}, want},
		{"one target", projections.HistoryQuery{Type: "postgres", Name: "b", Limit: 1000},
			filter(func(it projections.HistoryItem) bool { return it.Name == "b" })},
		{"since until inclusive", projections.HistoryQuery{Type: "postgres", Since: at(3), Until: at(6), Limit: 1000},
			filter(func(it projections.HistoryItem) bool {
				return !it.CheckedAt.Before(at(3)) && !it.CheckedAt.After(at(6))
			})},
		{"limit", projections.HistoryQuery{Type: "postgres", Limit: 4}, want[:4]},
		{"unknown name", projections.HistoryQuery{Type: "postgres", Name: "zz"}, nil},
		{"unknown kind", projections.HistoryQuery{Type: "milvus"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := fx.store.History(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if !sameItems(p.Items, c.want) {
				t.Fatalf("items:\n%s\nwant:\n%s", dump(p.Items), dump(c.want))
			}
			if p.Items == nil {
				t.Fatal("items must be [] rather than null")
			}
		})
	}
	for _, limit := range []int{1, 2, 4, 7, 100} {
		for _, q := range []projections.HistoryQuery{
			{Type: "postgres"},
			{Type: "postgres", Name: "a"},
			{Type: "postgres", Since: at(2), Until: at(8)},
		} {
			t.Run(fmt.Sprintf("pages of %d %s %s", limit, q.Name, q.Since.Format(time.TimeOnly)), func(t *testing.T) {
				full := q
				full.Limit = 1000
				all, err := fx.store.History(ctx, full)
				if err != nil {
					t.Fatal(err)
				}
				var got []projections.HistoryItem
				q.Limit = limit
				for pages := 0; ; pages++ {
					if pages > 100 {
						t.Fatal("paging does not end")
					}
					p, err := fx.store.History(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if len(p.Items) > limit || (p.Next != "" && len(p.Items) != limit) {
						t.Fatalf("page of %d items with next %q", len(p.Items), p.Next)
					}
					got = append(got, p.Items...)
					if p.Next == "" {
						break
					}
					q.Cursor = p.Next
				}
				if !sameItems(got, all.Items) {
					t.Fatalf("pages:\n%s\nwant:\n%s", dump(got), dump(all.Items))
				}
			})
		}
	}
	if _, err := fx.store.History(ctx, projections.HistoryQuery{Type: "postgres", Cursor: "bm90IGEgY3Vyc29y"}); !errors.Is(err, projections.ErrBadCursor) {
		t.Fatalf("bad cursor: err = %v", err)
	}
	if _, err := fx.store.History(ctx, projections.HistoryQuery{}); !errors.Is(err, projections.ErrBadQuery) {
		t.Fatalf("no type: err = %v", err)
	}
}

func testHistoryDedupe(t *testing.T, fx *fixture) {
	ctx := context.Background()
	r := ref("milvus", "vec")
	now := fx.clock.Now().UnixMilli()
	fx.handle(t, checked(r, "UP", now-2000, 1), checked(r, "DOWN", now-1000, 2))
	// A redelivered check is dropped. A check older than the newest (a
	// slow probe finishing after a later one) enters the history where
	// it belongs, or, in a store whose history only grows at its top
	// (Redis streams), only the rollups; either way the rollups count
	// it once. Neither is an error.
	late := checked(r, "UP", now-1500, 1)
	fx.handle(t, checked(r, "DOWN", now-1000, 2), late, late, checked(r, "UP", now-2000, 1))
	p, err := fx.store.History(ctx, projections.HistoryQuery{Type: "milvus", Name: "vec"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"DOWN", "UP"}
	if fx.be.LateInHistory {
		want = []string{"DOWN", "UP", "UP"}
	}
	var got []string
	for _, it := range p.Items {
		got = append(got, it.State)
	}
	if !slices.Equal(got, want) || (fx.be.LateInHistory && !p.Items[1].CheckedAt.Equal(late.CheckedAt)) {
		t.Fatalf("history = %s", dump(p.Items))
	}
	m, err := fx.store.Metrics(ctx, "milvus", "vec")
	if err != nil {
		t.Fatal(err)
	}
	if m.Checks != 3 {
		t.Fatalf("rolled-up checks = %d, want 3 (once per slot, the late one included)", m.Checks)
	}
}

func testHistoryBounds(t *testing.T, be Backend) {
	t.Run("max entries", func(t *testing.T) {
		contract(t, be, Options{HistoryMaxEntries: 10}, func(t *testing.T, fx *fixture) {
			ctx := context.Background()
			r := ref("rabbitmq", "bus")
			now := fx.clock.Now().UnixMilli()
			for i := range 300 {
				if err := fx.history.OnHealthChecked(ctx, checked(r, "UP", now-300_000+int64(i)*1000, 1)); err != nil {
					t.Fatal(err)
				}
			}
			fx.settle()
			n := fx.be.HistoryLen(fx.store, "rabbitmq", "bus")
			t.Logf("history length after 300 checks with at most 10 kept: %d", n)
			if n < 10 || n > 10+fx.be.TrimSlack {
				t.Fatalf("history length %d, want 10..%d", n, 10+fx.be.TrimSlack)
			}
			p, _ := fx.store.History(ctx, projections.HistoryQuery{Type: "rabbitmq", Limit: 1})
			if len(p.Items) != 1 || !p.Items[0].CheckedAt.Equal(time.UnixMilli(now-1000)) {
				t.Fatalf("newest item = %v", p.Items)
			}
		})
	})
	t.Run("retention", func(t *testing.T) {
		contract(t, be, Options{HistoryRetention: time.Hour}, func(t *testing.T, fx *fixture) {
			ctx := context.Background()
			r := ref("rabbitmq", "bus")
			now := fx.clock.Now().UnixMilli()
			for i := range 250 {
				if err := fx.history.OnHealthChecked(ctx, checked(r, "UP", now-2*3600_000+int64(i)*1000, 1)); err != nil {
					t.Fatal(err)
				}
			}
			fx.handle(t, checked(r, "DOWN", now, 1))
			fx.settle()
			n := fx.be.HistoryLen(fx.store, "rabbitmq", "bus")
			t.Logf("history length with an hour kept: %d", n)
			if n < 1 || n > 1+fx.be.TrimSlack {
				t.Fatalf("history length %d, want 1..%d (only the last hour kept)", n, 1+fx.be.TrimSlack)
			}
		})
	})
}

func sameItems(a, b []projections.HistoryItem) bool {
	return slices.EqualFunc(a, b, func(x, y projections.HistoryItem) bool {
		return x.Type == y.Type && x.Name == y.Name && x.State == y.State && x.CheckedAt.Equal(y.CheckedAt) &&
			x.LatencyMS == y.LatencyMS && x.ErrorKind == y.ErrorKind && x.Error == y.Error && x.Prober == y.Prober
	})
}

func dump(items []projections.HistoryItem) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "  %s %s %s %.1f\n", it.CheckedAt.Format(time.TimeOnly+".000"), it.Name, it.State, it.LatencyMS)
	}
	return b.String()
}
