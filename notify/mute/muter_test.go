package mute

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/redistest"
)

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingStore counts the snapshot reads of a Store and can fail them.
type countingStore struct {
	Store
	mu    sync.Mutex
	reads int
	fail  error
}

func (c *countingStore) Silences(ctx context.Context) ([]Silence, error) {
	c.mu.Lock()
	c.reads++
	err := c.fail
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return c.Store.Silences(ctx)
}

func (c *countingStore) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.reads }

func newTestStore(t *testing.T) Store {
	s, err := OpenLocalStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

var pgMain = Subject{Type: "postgres", Name: "pg-main", Severity: "critical", AlertID: "alert-1"}

func marks(t *testing.T, m *Muter, s Subject) Marks {
	t.Helper()
	mk, err := m.Marks(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	return mk
}

func TestMuterSilence(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	store := newTestStore(t)
	m := NewMuter(store, nil, c.now)
	if mk := marks(t, m, pgMain); mk.Muted() || mk.SilencedBy != nil {
		t.Fatalf("nothing stored: %+v", mk)
	}

	s := Silence{ID: "s1", Matchers: []Matcher{{Name: "name", Value: "pg-.*", IsRegex: true, IsEqual: true}},
		StartsAt: c.now(), EndsAt: c.now().Add(time.Hour), CreatedBy: "ann"}
	later := s
	later.ID, later.StartsAt = "s0", c.now().Add(30*time.Minute)
	other := s
	other.ID, other.Matchers = "s2", []Matcher{{Name: "type", Value: "mysql", IsEqual: true}}
	for _, x := range []Silence{s, later, other} {
		if err := store.PutSilence(ctx, x); err != nil {
			t.Fatal(err)
		}
	}
	if mk := marks(t, m, pgMain); mk.Muted() {
		t.Fatalf("snapshot not refreshed yet: %+v", mk)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if mk := marks(t, m, pgMain); !mk.Muted() || !slices.Equal(mk.SilencedBy, []string{"s1"}) {
		t.Fatalf("silenced: %+v", mk)
	}
	if mk := marks(t, m, Subject{Type: "redis", Name: "cache", Severity: "warning"}); mk.Muted() {
		t.Fatalf("other target: %+v", mk)
	}

	// The pending silence becomes active without a refresh.
	c.add(31 * time.Minute)
	if mk := marks(t, m, pgMain); !slices.Equal(mk.SilencedBy, []string{"s0", "s1"}) {
		t.Fatalf("both: %+v", mk)
	}

	// Expired in the store: not muted after the snapshot is refreshed.
	for _, id := range []string{"s0", "s1"} {
		if _, err := store.ExpireSilence(ctx, id, c.now()); err != nil {
			t.Fatal(err)
		}
	}
	c.add(DefaultRefresh)
	if mk := marks(t, m, pgMain); mk.Muted() {
		t.Fatalf("expired: %+v", mk)
	}
}

func TestMuterSilenceEndsWithoutRefresh(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	store := newTestStore(t)
	s := Silence{ID: "s1", Matchers: []Matcher{{Name: "type", Value: "postgres", IsEqual: true}},
		StartsAt: c.now(), EndsAt: c.now().Add(time.Second), CreatedBy: "ann"}
	if err := store.PutSilence(ctx, s); err != nil {
		t.Fatal(err)
	}
	m := NewMuter(store, nil, c.now)
	m.SetInterval(time.Hour)
	if !marks(t, m, pgMain).Muted() {
		t.Fatal("want muted")
	}
	c.add(time.Second)
	if mk := marks(t, m, pgMain); mk.Muted() {
		t.Fatalf("ended: %+v", mk)
	}
}

func TestMuterConfiguredWindow(t *testing.T) {
	// 01:45 UTC in January is 02:45 in Berlin, inside 02:30 + 1h.
	c := &clock{t: time.Date(2026, 1, 15, 1, 45, 0, 0, time.UTC)}
	backup := Window{ID: "config:backup", Name: "backup", Cron: "30 2 * * *", Duration: time.Hour, TimeZone: "Europe/Berlin",
		Matchers: []Matcher{{Name: "type", Value: "postgres", IsEqual: true}}, Source: SourceConfig}
	m := NewMuter(newTestStore(t), []Window{backup}, c.now)
	if mk := marks(t, m, pgMain); !mk.Muted() || mk.Maintenance != "backup" || mk.SilencedBy != nil {
		t.Fatalf("in maintenance: %+v", mk)
	}
	if mk := marks(t, m, Subject{Type: "mysql", Name: "my"}); mk.Muted() {
		t.Fatalf("not a postgres: %+v", mk)
	}
	c.add(time.Hour)
	if mk := marks(t, m, pgMain); mk.Muted() {
		t.Fatalf("window closed: %+v", mk)
	}

	// Live reload: an every-target window open now.
	m.SetConfigured([]Window{backup, {Name: "all", Cron: "0 * * * *", Duration: 50 * time.Minute}, {Name: "broken", Cron: "x"}})
	if mk := marks(t, m, Subject{Type: "mysql", Name: "my"}); mk.Maintenance != "all" {
		t.Fatalf("reloaded: %+v", mk)
	}
	m.SetConfigured(nil)
	if mk := marks(t, m, pgMain); mk.Muted() {
		t.Fatalf("removed: %+v", mk)
	}
}

func TestMuterStoredWindow(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	store := newTestStore(t)
	w := Window{ID: NewID(), StartsAt: c.now().Add(-time.Minute), Duration: time.Hour, Source: SourceAPI,
		Matchers: []Matcher{{Name: "severity", Value: "critical", IsEqual: true}}}
	if err := store.PutWindow(ctx, w); err != nil {
		t.Fatal(err)
	}
	m := NewMuter(store, nil, c.now)
	if mk := marks(t, m, pgMain); mk.Maintenance != w.ID {
		t.Fatalf("unnamed window is named by id: %+v", mk)
	}
}

func TestMuterAcks(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	store := newTestStore(t)
	m := NewMuter(store, nil, c.now)
	if err := store.PutAck(ctx, Ack{AlertID: "alert-1", By: "ann", At: c.now()}); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	mk := marks(t, m, pgMain)
	if mk.AckedBy != "ann" || mk.Muted() {
		t.Fatalf("acked, not muted: %+v", mk)
	}
	other := pgMain
	other.AlertID = "alert-2"
	if mk := marks(t, m, other); mk.AckedBy != "" {
		t.Fatalf("other alert: %+v", mk)
	}
	if err := store.DeleteAck(ctx, "alert-1"); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if mk := marks(t, m, pgMain); mk.AckedBy != "" {
		t.Fatalf("unacked: %+v", mk)
	}
}

func TestMuterRefreshesOnlyWhenStale(t *testing.T) {
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	store := &countingStore{Store: newTestStore(t)}
	m := NewMuter(store, nil, c.now)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := m.Marks(context.Background(), pgMain); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := store.count(); n != 1 {
		t.Fatalf("%d reads, want 1", n)
	}
	c.add(DefaultRefresh - time.Millisecond)
	marks(t, m, pgMain)
	if n := store.count(); n != 1 {
		t.Fatalf("fresh snapshot: %d reads", n)
	}
	c.add(time.Millisecond)
	marks(t, m, pgMain)
	if n := store.count(); n != 2 {
		t.Fatalf("stale snapshot: %d reads, want 2", n)
	}
}

func TestMuterStoreDown(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	inner := newTestStore(t)
	store := &countingStore{Store: inner}
	s := Silence{ID: "s1", Matchers: []Matcher{{Name: "name", Value: "pg-main", IsEqual: true}},
		StartsAt: c.now(), EndsAt: c.now().Add(time.Hour), CreatedBy: "ann"}
	if err := inner.PutSilence(ctx, s); err != nil {
		t.Fatal(err)
	}
	m := NewMuter(store, nil, c.now)
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	down := errors.New("store down")
	store.mu.Lock()
	store.fail = down
	store.mu.Unlock()
	c.add(DefaultRefresh)
	mk, err := m.Marks(ctx, pgMain)
	if !errors.Is(err, down) {
		t.Fatalf("want the store's error, got %v", err)
	}
	if !slices.Equal(mk.SilencedBy, []string{"s1"}) {
		t.Fatalf("want the last snapshot's marks, got %+v", mk)
	}
}

func TestMuterRedisStore(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Machine(t)
	store := NewRedisStore(rdb, redistest.Prefix(t, rdb, "test-mute"))
	c := &clock{t: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	s := Silence{ID: NewID(), Matchers: []Matcher{{Name: "type", Value: "postgres", IsEqual: true}},
		StartsAt: c.now(), EndsAt: c.now().Add(time.Hour), CreatedBy: "ann"}
	if err := store.PutSilence(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := store.PutAck(ctx, Ack{AlertID: pgMain.AlertID, By: "bob"}); err != nil {
		t.Fatal(err)
	}
	m := NewMuter(store, nil, c.now)
	if mk := marks(t, m, pgMain); !slices.Equal(mk.SilencedBy, []string{s.ID}) || mk.AckedBy != "bob" {
		t.Fatalf("%+v", mk)
	}
	if _, err := store.ExpireSilence(ctx, s.ID, c.now()); err != nil {
		t.Fatal(err)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if mk := marks(t, m, pgMain); mk.Muted() {
		t.Fatalf("expired: %+v", mk)
	}
}
