package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dbhealth/database-service/projections"
)

func TestPack(t *testing.T) {
	for _, fields := range [][]string{
		{}, {""}, {"", ""}, {"UP", "123", "reason with | and : and 4:abc"}, {"12:", ":", "|", "\x00\n"},
	} {
		out := make([]string, len(fields))
		if !unpack(pack(fields...), out) {
			t.Fatalf("unpack(pack(%q)) failed", fields)
		}
		for i := range fields {
			if out[i] != fields[i] {
				t.Fatalf("unpack(pack(%q)) = %q", fields, out)
			}
		}
	}
	for _, bad := range []string{"x", "3:ab", "-1:", "2:abc", "1:a1:b"} {
		if unpack(bad, make([]string, 1)) {
			t.Errorf("unpack(%q) into one field succeeded", bad)
		}
	}
}

func TestCursor(t *testing.T) {
	for _, c := range []cursor{{1, "a"}, {1700000000000, "name:with:colons|and|bars"}, {0, "é"}} {
		got, err := decodeCursor(encodeCursor(c))
		if err != nil || got != c {
			t.Errorf("round trip of %+v = %+v, %v", c, got, err)
		}
	}
	for _, bad := range []string{"!", "aGVsbG8", encodeCursor(cursor{-1, "a"}), encodeCursor(cursor{1, ""})} {
		if _, err := decodeCursor(bad); !errors.Is(err, projections.ErrBadCursor) {
			t.Errorf("decodeCursor(%q) err = %v", bad, err)
		}
	}
}

func TestOddNames(t *testing.T) {
	contract(t, Options{}, func(t *testing.T, fx *fixture) {
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
	})
}
