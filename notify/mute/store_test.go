package mute

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/redistest"
)

func TestRedisStoreContract(t *testing.T) {
	rdb := redistest.Machine(t)
	storeContract(t, func(t *testing.T) Store {
		return NewRedisStore(rdb, redistest.Prefix(t, rdb, "test-mute"))
	})
}

func TestRedisStoreKeys(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Machine(t)
	prefix := redistest.Prefix(t, rdb, "test-mute")
	s := NewRedisStore(rdb, prefix)
	if err := s.PutSilence(ctx, Silence{ID: "s1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWindow(ctx, Window{ID: "w1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAck(ctx, Ack{AlertID: "a1"}); err != nil {
		t.Fatal(err)
	}
	for key, field := range map[string]string{"silences": "s1", "windows": "w1", "acks": "a1"} {
		if ok, err := rdb.HExists(ctx, prefix+":mute:"+key, field).Result(); err != nil || !ok {
			t.Errorf("%s:mute:%s has no %s (%v)", prefix, key, field, err)
		}
	}
	// A silence deleted between the read and the write of an expiry.
	if err := rdb.HDel(ctx, prefix+":mute:silences", "s1").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExpireSilence(ctx, "s1", time.Now()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("gone: %v", err)
	}
}

func TestLocalStoreContract(t *testing.T) {
	storeContract(t, func(t *testing.T) Store {
		s, err := OpenLocalStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

func TestLocalStorePersists(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s, err := OpenLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := OpenLocalStore(dir); err == nil {
		t.Fatal("opened twice: want an error")
	}
	sil := Silence{ID: NewID(), Matchers: []Matcher{{Name: "name", Value: "pg", IsEqual: true}}, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ann"}
	if err := s.PutSilence(ctx, sil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ExpireSilence(ctx, sil.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.PutWindow(ctx, Window{ID: "w1", Cron: "@daily", Duration: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutAck(ctx, Ack{AlertID: "a1", By: "bob"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = OpenLocalStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ss, err := s.Silences(ctx)
	if err != nil || len(ss) != 1 || ss[0].ID != sil.ID || !ss[0].EndsAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("silences after reopen: %+v %v", ss, err)
	}
	ws, err := s.Windows(ctx)
	if err != nil || len(ws) != 1 || ws[0].Duration != time.Hour {
		t.Fatalf("windows after reopen: %+v %v", ws, err)
	}
	as, err := s.Acks(ctx)
	if err != nil || as["a1"].By != "bob" {
		t.Fatalf("acks after reopen: %+v %v", as, err)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewID()
		if len(id) != 32 || seen[id] {
			t.Fatalf("id %q", id)
		}
		for _, c := range id {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				t.Fatalf("id %q is not hex", id)
			}
		}
		seen[id] = true
	}
}
