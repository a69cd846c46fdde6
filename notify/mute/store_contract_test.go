package mute

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// storeContract runs the Store contract on stores from open, each fresh.
func storeContract(t *testing.T, open func(t *testing.T) Store) {
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	silence := func(id string) Silence {
		return Silence{ID: id, Matchers: []Matcher{{Name: "name", Value: "pg-.*", IsRegex: true, IsEqual: true}},
			StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ann", Comment: "upgrade", UpdatedAt: t0, Status: StatusActive}
	}

	t.Run("empty", func(t *testing.T) {
		s := open(t)
		ss, err := s.Silences(ctx)
		if err != nil || len(ss) != 0 {
			t.Fatalf("silences %v %v", ss, err)
		}
		ws, err := s.Windows(ctx)
		if err != nil || len(ws) != 0 {
			t.Fatalf("windows %v %v", ws, err)
		}
		as, err := s.Acks(ctx)
		if err != nil || len(as) != 0 {
			t.Fatalf("acks %v %v", as, err)
		}
	})

	t.Run("silences", func(t *testing.T) {
		s := open(t)
		a, b := silence("a"), silence("b")
		b.Matchers = append(b.Matchers, Matcher{Name: "severity", Value: "warning"})
		for _, x := range []Silence{b, a} {
			if err := s.PutSilence(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		a.Comment = "replaced"
		if err := s.PutSilence(ctx, a); err != nil {
			t.Fatal(err)
		}
		ss, err := s.Silences(ctx)
		if err != nil || len(ss) != 2 {
			t.Fatalf("%v %v", ss, err)
		}
		byID := map[string]Silence{}
		for _, x := range ss {
			byID[x.ID] = x
		}
		got := byID["a"]
		if got.Comment != "replaced" || !got.StartsAt.Equal(t0) || !got.EndsAt.Equal(a.EndsAt) || !got.UpdatedAt.Equal(t0) ||
			got.CreatedBy != "ann" || len(got.Matchers) != 1 || got.Matchers[0] != a.Matchers[0] || got.Status != "" {
			t.Fatalf("a: %+v", got)
		}
		if m := byID["b"].Matchers; len(m) != 2 || m[1].IsEqual {
			t.Fatalf("b: %+v", m)
		}
		if err := s.PutSilence(ctx, Silence{}); err == nil {
			t.Fatal("empty id: want an error")
		}
	})

	t.Run("expire", func(t *testing.T) {
		s := open(t)
		if _, err := s.ExpireSilence(ctx, "nope", t0); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown: %v", err)
		}
		if err := s.PutSilence(ctx, silence("a")); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(10 * time.Minute)
		e, err := s.ExpireSilence(ctx, "a", now)
		if err != nil || !e.EndsAt.Equal(now) || e.Status != StatusExpired || e.ID != "a" {
			t.Fatalf("%+v %v", e, err)
		}
		// Expiring again later keeps the first end.
		e, err = s.ExpireSilence(ctx, "a", now.Add(time.Hour))
		if err != nil || !e.EndsAt.Equal(now) {
			t.Fatalf("again: %+v %v", e, err)
		}
		ss, err := s.Silences(ctx)
		if err != nil || len(ss) != 1 || !ss[0].EndsAt.Equal(now) || ss[0].ActiveAt(now) {
			t.Fatalf("stored: %+v %v", ss, err)
		}
	})

	t.Run("concurrent expire", func(t *testing.T) {
		s := open(t)
		for _, id := range []string{"a", "b"} {
			if err := s.PutSilence(ctx, silence(id)); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				id := []string{"a", "b"}[i%2]
				if _, err := s.ExpireSilence(ctx, id, t0.Add(time.Duration(i+1)*time.Minute)); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		ss, _ := s.Silences(ctx)
		for _, x := range ss {
			if x.ActiveAt(t0.Add(9*time.Minute)) || x.EndsAt.After(t0.Add(8*time.Minute)) {
				t.Errorf("%s still active: %+v", x.ID, x)
			}
		}
	})

	t.Run("windows", func(t *testing.T) {
		s := open(t)
		w := Window{ID: "w1", Name: "backup", Cron: "30 2 * * *", Duration: 90 * time.Minute, TimeZone: "Europe/Berlin",
			Matchers: []Matcher{{Name: "type", Value: "postgres", IsEqual: true}}, CreatedBy: "ann", Source: SourceAPI}
		o := Window{ID: "w2", Name: "once", StartsAt: t0, EndsAt: t0.Add(time.Hour), Source: SourceAPI}
		for _, x := range []Window{w, o} {
			if err := s.PutWindow(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		ws, err := s.Windows(ctx)
		if err != nil || len(ws) != 2 {
			t.Fatalf("%v %v", ws, err)
		}
		for _, got := range ws {
			want := w
			if got.ID == "w2" {
				want = o
			}
			if got.Name != want.Name || got.Duration != want.Duration || got.Cron != want.Cron || got.TimeZone != want.TimeZone ||
				!got.StartsAt.Equal(want.StartsAt) || !got.EndsAt.Equal(want.EndsAt) || len(got.Matchers) != len(want.Matchers) || got.Source != SourceAPI {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		}
		d, ok := s.(interface {
			DeleteWindow(context.Context, string) error
		})
		if !ok {
			t.Fatal("no DeleteWindow")
		}
		if err := d.DeleteWindow(ctx, "w1"); err != nil {
			t.Fatal(err)
		}
		if err := d.DeleteWindow(ctx, "w1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted twice: %v", err)
		}
		if ws, _ := s.Windows(ctx); len(ws) != 1 || ws[0].ID != "w2" {
			t.Fatalf("after delete: %+v", ws)
		}
	})

	t.Run("acks", func(t *testing.T) {
		s := open(t)
		if err := s.DeleteAck(ctx, "a1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("not acked: %v", err)
		}
		a := Ack{AlertID: "a1", By: "ann", Comment: "on it", At: t0}
		if err := s.PutAck(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := s.PutAck(ctx, Ack{AlertID: "a2", By: "bob", At: t0}); err != nil {
			t.Fatal(err)
		}
		as, err := s.Acks(ctx)
		if err != nil || len(as) != 2 || as["a1"].By != "ann" || as["a1"].Comment != "on it" || !as["a1"].At.Equal(t0) {
			t.Fatalf("%+v %v", as, err)
		}
		if err := s.DeleteAck(ctx, "a1"); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteAck(ctx, "a1"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("deleted twice: %v", err)
		}
		if as, _ := s.Acks(ctx); len(as) != 1 || as["a2"].By != "bob" {
			t.Fatalf("after delete: %+v", as)
		}
	})
}
