package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/dbhealth/database-service/projections"
)

func testOddNames(t *testing.T, fx *fixture) {
	ctx := context.Background()
	r := ref("postgres", "a|b:c/d 1")
	now := fx.clock.Now().UnixMilli()
	sc := changed(r, 1, 1, "UNKNOWN", "DOWN", now)
	sc.Reason = "error: x|y:z"
	sc.Check.Error = "dial tcp: 1:2|3"
	fx.handle(t, sc, sc.Check, checked(r, "DOWN", now+1000, 2)) // the coordinator publishes the deciding check too
	st := one(t, fx, "postgres", "a|b:c/d 1")
	if st.Reason != sc.Reason || st.State != "DOWN" || st.Slot != now+1000 || st.Error != "no answer" {
		t.Fatalf("status = %+v", st)
	}
	p, err := fx.store.History(ctx, projections.HistoryQuery{Type: "postgres", Limit: 1})
	if err != nil || len(p.Items) != 1 || p.Next == "" {
		t.Fatalf("history page = %+v, %v", p, err)
	}
	p, err = fx.store.History(ctx, projections.HistoryQuery{Type: "postgres", Limit: 1, Cursor: p.Next})
	if err != nil || len(p.Items) != 1 || p.Items[0].Error != sc.Check.Error || !p.Items[0].CheckedAt.Equal(time.UnixMilli(now)) {
		t.Fatalf("second page = %+v, %v", p, err)
	}
	if as := alerts(t, fx, "firing"); len(as) != 1 || as[0].ID != sc.ID() || as[0].Reason != sc.Reason {
		t.Fatalf("alerts = %+v", as)
	}
}
