package storetest

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/projections"
)

func testStatusGuards(t *testing.T, fx *fixture) {
	pg := ref("postgres", "main")
	base := time.Now().UnixMilli()

	// Checks only: UNKNOWN, last check moves forward only.
	fx.handle(t, checked(pg, "UP", base+2000, 4), checked(pg, "DOWN", base+1000, 9))
	st := one(t, fx, "postgres", "main")
	if st.State != projections.StateUnknown || st.Since != nil {
		t.Fatalf("before any transition: state %s since %v", st.State, st.Since)
	}
	if st.Slot != base+2000 || st.LatencyMS != 4 || st.ErrorKind != "" || !strings.Contains(string(st.Details), `"version":"16.1"`) {
		t.Fatalf("last check = %+v, want slot %d", st, base+2000)
	}
	if st.CheckedAt == nil || !st.CheckedAt.Equal(time.UnixMilli(base+2000)) || st.Prober != "replica-1" {
		t.Fatalf("checked_at/prober = %v %q", st.CheckedAt, st.Prober)
	}

	// Transitions: a later seq wins whatever the order; the deciding
	// check of an older transition does not replace a newer check.
	fx.handle(t,
		changed(pg, 5, 2, "DOWN", "UP", base+3000),
		changed(pg, 5, 1, "UNKNOWN", "DOWN", base+500))
	st = one(t, fx, "postgres", "main")
	if st.State != "UP" || st.Seq != 2 || st.Epoch != 5 || st.Reason != "now UP" || !st.Since.Equal(time.UnixMilli(base+3000)) {
		t.Fatalf("after seq 2 then 1: %+v", st)
	}
	if st.Slot != base+3000 {
		t.Fatalf("deciding check of seq 2 (slot %d) should be the last check, got slot %d", base+3000, st.Slot)
	}

	// A larger epoch wins over any seq of a smaller one; a smaller
	// epoch loses.
	fx.handle(t, changed(pg, 6, 1, "UNKNOWN", "DEGRADED", base+4000), changed(pg, 5, 9, "UP", "DOWN", base+5000))
	st = one(t, fx, "postgres", "main")
	if st.State != "DEGRADED" || st.Epoch != 6 || st.Seq != 1 {
		t.Fatalf("after epoch 6 seq 1 and epoch 5 seq 9: %+v", st)
	}
	// ... but its newer deciding check still counts as a check.
	if st.Slot != base+5000 || st.State != "DEGRADED" {
		t.Fatalf("last check slot = %d, want %d", st.Slot, base+5000)
	}
	// Redelivery changes nothing.
	before := st
	fx.handle(t, changed(pg, 6, 1, "UNKNOWN", "DEGRADED", base+4000), checked(pg, "UP", base+2000, 4))
	if st = one(t, fx, "postgres", "main"); st.Slot != before.Slot || st.State != before.State || st.Seq != before.Seq {
		t.Fatalf("redelivery moved the status: %+v -> %+v", before, st)
	}
}

func testStatusListing(t *testing.T, fx *fixture) {
	ctx := context.Background()
	base := time.Now().UnixMilli()
	for _, r := range []struct{ kind, name string }{
		{"redis", "cache"}, {"postgres", "b"}, {"elasticsearch", "logs"}, {"postgres", "a"}, {"postgres", "a-1"},
	} {
		fx.handle(t, changed(ref(r.kind, r.name), 1, 1, "UNKNOWN", "UP", base))
	}
	all, err := fx.store.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range all {
		got = append(got, s.Type+"/"+s.Name)
		if len(s.Details) == 0 || s.Details[0] != '{' {
			t.Errorf("%s/%s: details must be an object, not null", s.Type, s.Name)
		}
	}
	want := []string{"elasticsearch/logs", "postgres/a", "postgres/a-1", "postgres/b", "redis/cache"}
	if !slices.Equal(got, want) {
		t.Fatalf("Statuses order = %v, want %v", got, want)
	}
	pg, err := fx.store.StatusesOf(ctx, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	if len(pg) != 3 || pg[0].Name != "a" || pg[2].Name != "b" {
		t.Fatalf("StatusesOf(postgres) = %+v", pg)
	}
	none, err := fx.store.StatusesOf(ctx, "milvus")
	if err != nil || len(none) != 0 {
		t.Fatalf("StatusesOf(milvus) = %v, %v", none, err)
	}
}

func testForget(t *testing.T, fx *fixture) {
	ctx := context.Background()
	base := time.Now().UnixMilli() - 10_000
	gone, kept := ref("postgres", "gone"), ref("postgres", "kept")
	fx.handle(t,
		checked(gone, "DOWN", base, 3), changed(gone, 1, 1, "UNKNOWN", "DOWN", base+1),
		checked(kept, "UP", base, 3), changed(kept, 1, 1, "UNKNOWN", "UP", base+1))
	if n, _ := fx.store.Firing(ctx); n != 1 {
		t.Fatalf("firing = %d, want 1", n)
	}
	if err := fx.store.Forget(ctx, "postgres", "gone"); err != nil {
		t.Fatal(err)
	}
	st, _ := fx.store.StatusesOf(ctx, "postgres")
	if len(st) != 1 || st[0].Name != "kept" {
		t.Fatalf("after Forget: %+v", st)
	}
	ts, _ := fx.store.Targets(ctx)
	if len(ts) != 1 || ts[0] != kept {
		t.Fatalf("Targets after Forget = %v", ts)
	}
	if p, _ := fx.store.History(ctx, projections.HistoryQuery{Type: "postgres", Name: "gone"}); len(p.Items) != 0 {
		t.Fatalf("history after Forget = %v", p.Items)
	}
	if n, _ := fx.store.Firing(ctx); n != 0 {
		t.Fatalf("firing after Forget = %d, want 0", n)
	}
	as, _ := fx.store.Alerts(ctx, projections.AlertQuery{State: projections.AlertResolved})
	if len(as) != 1 || as[0].Name != "gone" || as[0].ResolvedAt == nil {
		t.Fatalf("resolved alerts after Forget = %+v", as)
	}
	// Events still in flight do not bring it back; newer ones do.
	fx.handle(t, checked(gone, "DOWN", base+2, 3))
	if st, _ := fx.store.StatusesOf(ctx, "postgres"); len(st) != 1 {
		t.Fatalf("a late event brought the target back: %+v", st)
	}
	fx.handle(t, checked(gone, "UP", fx.clock.Now().UnixMilli()+1000, 3))
	if st, _ := fx.store.StatusesOf(ctx, "postgres"); len(st) != 2 {
		t.Fatalf("a new check did not bring the target back: %+v", st)
	}
}
