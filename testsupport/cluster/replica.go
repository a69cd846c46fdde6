package cluster

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// Replica is one in-process replica with its own connections to RabbitMQ
// and Redis, each through a proxy the test can pause, cut or refuse.
type Replica struct {
	ID  string
	App *service.Replica
	// Rabbit and Store are the replica's proxies to the broker and the
	// store.
	Rabbit, Store *servers.Proxy
	// URL is the base URL of the replica's API.
	URL string

	ctx      context.Context
	cancel   context.CancelFunc
	done     chan error
	running  bool
	stopOnce sync.Once
}

// Start builds replica id with the cluster's environment plus extra; Run
// starts it. The test's cleanup stops it.
func (c *Cluster) Start(id string, extra map[string]string, opts service.Options) *Replica {
	c.t.Helper()
	return c.StartBehind(id, extra, opts, nil)
}

// StartBehind is Start with a hook that sets up the replica's proxies to
// RabbitMQ and Redis before it connects (to start it with them down).
// Without a hook it waits until the bus has declared its topology, so the
// test can bind to the exchange right away.
func (c *Cluster) StartBehind(id string, extra map[string]string, opts service.Options, before func(r *Replica)) *Replica {
	c.t.Helper()
	r := &Replica{ID: id, Rabbit: servers.StartProxy(c.t, RabbitMQ.Addr()), Store: servers.StartProxy(c.t, Redis.Addr())}
	if before != nil {
		before(r)
	}
	cfg := c.Load(c.Env(id, r.Rabbit.Addr(), r.Store.Addr(), extra))
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	opts.Listener = ln
	r.URL = "http://" + ln.Addr().String()
	a, err := service.New(ctx, cfg, TestLogger(c.t, id), opts)
	if err != nil {
		cancel()
		_ = ln.Close()
		c.t.Fatalf("replica %s: %v", id, err)
	}
	r.App, r.ctx, r.cancel, r.done = a, ctx, cancel, make(chan error, 1)
	c.t.Cleanup(r.Stop)
	if before == nil && !cfg.Bus.Embedded() {
		wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
		defer wcancel()
		if err := a.WaitBus(wctx); err != nil {
			c.t.Fatalf("replica %s: %v", id, err)
		}
	}
	return r
}

// Run starts the replica's components.
func (r *Replica) Run() *Replica {
	go func() { r.done <- r.App.Run(r.ctx) }()
	r.running = true
	return r
}

// Stop stops the replica as SIGTERM would (in order, bounded), or closes
// what it opened if it never ran. It waits up to 20 s.
func (r *Replica) Stop() {
	r.stopOnce.Do(func() {
		r.cancel()
		if !r.running {
			r.App.Close()
			return
		}
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
		}
	})
}

// TestLogger logs warnings and errors to the test log when -v is given,
// and nothing otherwise.
func TestLogger(t testing.TB, replica string) *slog.Logger {
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = tlogWriter{t}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})).With("replica", replica)
}

type tlogWriter struct{ t testing.TB }

func (w tlogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
