package probes

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type fakeFacts struct{ S State }

func (f fakeFacts) Health(Limits) (State, string) { return f.S, "" }

type fakeClient struct {
	closed atomic.Bool
	lost   chan struct{}
	err    error
}

func (c *fakeClient) Probe(ctx context.Context) (Facts, error) {
	if c.err != nil {
		return nil, c.err
	}
	return fakeFacts{S: StateUp}, nil
}
func (c *fakeClient) Stats() PoolStats { return PoolStats{Open: 1, Acquires: 1} }
func (c *fakeClient) Close() error     { c.closed.Store(true); return nil }
func (c *fakeClient) Watch(ctx context.Context, lost func(string)) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.lost:
			lost("gone")
		}
	}
}

func TestManagerOpensOnceReusesAndCloses(t *testing.T) {
	var opened atomic.Int32
	var mu sync.Mutex
	clients := map[string]*fakeClient{}
	openers := map[Kind]Opener{Redis: func(ctx context.Context, t Target) (Client, error) {
		opened.Add(1)
		c := &fakeClient{lost: make(chan struct{}, 1)}
		if t.Name == "bad" {
			c.err = Fail(ErrKindAuth, errors.New("denied for secretpw"))
		}
		mu.Lock()
		clients[t.Name] = c
		mu.Unlock()
		return c, nil
	}}
	lostCh := make(chan string, 4)
	m := NewManager(openers, nil, func(id, reason string) { lostCh <- id })
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error)
	go func() { runDone <- m.Run(ctx) }()

	a := Target{Kind: Redis, Name: "a", Host: "h", Port: 1, Username: "u", Password: "pw", Timeout: time.Second}
	bad := Target{Kind: Redis, Name: "bad", Host: "h", Port: 2, Password: "secretpw", Timeout: time.Second}
	ch := m.SetTargets([]Target{a, bad})
	if len(ch.Added) != 2 {
		t.Fatalf("%+v", ch)
	}
	for range 3 {
		r, err := m.Probe(ctx, a.ID())
		if err != nil || r.State != StateUp {
			t.Fatalf("%v %+v", err, r)
		}
	}
	if opened.Load() != 1 {
		t.Fatalf("opened %d clients for 3 probes", opened.Load())
	}
	r, _ := m.Probe(ctx, bad.ID())
	if r.State != StateDown || r.ErrorKind != ErrKindAuth || r.Error == "" || strings.Contains(r.Error, "secretpw") {
		t.Fatalf("bad target result %+v", r)
	}
	if _, err := m.Probe(ctx, "redis/none"); !errors.Is(err, ErrUnknownTarget) {
		t.Fatal(err)
	}
	// The watcher reports a loss.
	time.Sleep(20 * time.Millisecond)
	mu.Lock()
	clients["a"].lost <- struct{}{}
	mu.Unlock()
	select {
	case id := <-lostCh:
		if id != a.ID() {
			t.Fatal(id)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("lost not reported")
	}
	conns := m.Connections()
	if len(conns) != 2 || !conns[0].Connected || conns[0].User != "u" || conns[1].Pool.Errors != 1 {
		t.Fatalf("%+v", conns)
	}
	// A changed target gets a fresh client; a removed one is closed.
	a2 := a
	a2.Port = 3
	mu.Lock()
	oldA := clients["a"]
	oldBad := clients["bad"]
	mu.Unlock()
	ch = m.SetTargets([]Target{a2})
	if len(ch.Changed) != 1 || len(ch.Removed) != 1 || !oldA.closed.Load() || !oldBad.closed.Load() {
		t.Fatalf("%+v", ch)
	}
	if _, err := m.Probe(ctx, a.ID()); err != nil || opened.Load() != 3 {
		t.Fatalf("reopen: %v %d", err, opened.Load())
	}
	cancel()
	if err := <-runDone; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !clients["a"].closed.Load() {
		t.Fatal("clients not closed on stop")
	}
}

func TestManagerClosesIdleClients(t *testing.T) {
	var opened, closed atomic.Int32
	open := func(context.Context, Target) (Client, error) {
		opened.Add(1)
		return &closeCounter{closed: &closed}, nil
	}
	m := NewManager(map[Kind]Opener{Postgres: open}, nil, nil)
	defer m.Close()
	busy, quiet := Target{Kind: Postgres, Name: "busy", Interval: time.Second}, Target{Kind: Postgres, Name: "quiet", Interval: time.Second}
	m.SetTargets([]Target{busy, quiet})
	ctx := context.Background()
	for _, tg := range []Target{busy, quiet} {
		if _, err := m.Probe(ctx, tg.ID()); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	m.entries[busy.ID()].lastUsed.Store(now.UnixNano())
	m.closeIdle(now.Add(idleMin - time.Second))
	if closed.Load() != 0 {
		t.Fatal("a client closed before it was idle")
	}
	m.entries[quiet.ID()].lastUsed.Store(now.Add(-idleMin).UnixNano())
	m.closeIdle(now.Add(time.Second))
	if closed.Load() != 1 {
		t.Fatalf("%d clients closed, want the idle one", closed.Load())
	}
	// A probe of the quiet target opens a new client.
	if _, err := m.Probe(ctx, quiet.ID()); err != nil || opened.Load() != 3 {
		t.Fatalf("reopen: %v, %d opened", err, opened.Load())
	}
}

type closeCounter struct{ closed *atomic.Int32 }

func (c *closeCounter) Probe(context.Context) (Facts, error) { return scriptedUp{}, nil }
func (c *closeCounter) Stats() PoolStats                     { return PoolStats{} }
func (c *closeCounter) Close() error                         { c.closed.Add(1); return nil }

type scriptedUp struct{}

func (scriptedUp) Health(Limits) (State, string) { return StateUp, "" }
