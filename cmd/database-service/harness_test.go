package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// The machine's RabbitMQ and Redis (TEST_RABBITMQ_URL, TEST_REDIS_ADDR
// override them).
var (
	rabbitMQ   = servers.MachineRabbitMQ()
	rabbitAddr = rabbitMQ.Addr()
	redisAddr  = servers.MachineRedis().Addr()
)

// cluster is an isolated deployment on the machine's RabbitMQ and Redis:
// a unique exchange, service name (queue prefix) and key prefix.
type cluster struct {
	t        *testing.T
	id       string
	exchange string
	service  string
	prefix   string
	dir      string
	groups   []string // consumer groups whose queues to delete
}

func newCluster(t *testing.T) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the machine's RabbitMQ and Redis")
	}
	id := fmt.Sprintf("%x", rand.Uint32())
	c := &cluster{t: t, id: id, exchange: "test-dbh-" + id, service: "test-svc-" + id, prefix: "test-dbsvc-" + id, dir: t.TempDir(),
		groups: []string{"checks", "status", "alerts"}}
	t.Cleanup(c.cleanup)
	return c
}

func (c *cluster) cleanup() {
	conn, err := amqp.Dial(rabbitMQ.URL())
	if err == nil {
		ch, err := conn.Channel()
		if err == nil {
			for _, q := range append([]string{c.exchange + ".unrouted", c.service + ".poison"}, c.groupQueues()...) {
				_, _ = ch.QueueDelete(q, false, false, false)
			}
			for _, x := range []string{c.exchange, c.exchange + ".unrouted", c.service + ".dlx"} {
				_ = ch.ExchangeDelete(x, false, false)
			}
		}
		_ = conn.Close()
	}
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, c.prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}

func (c *cluster) groupQueues() []string {
	out := make([]string, len(c.groups))
	for i, g := range c.groups {
		out[i] = c.service + "." + g
	}
	return out
}

// env is the environment of one replica reaching RabbitMQ and Redis at the
// given addresses (proxies, so tests can cut them).
func (c *cluster) env(replica, rabbit, store string, extra map[string]string) map[string]string {
	e := map[string]string{
		"APP_ENV":               "test",
		"DB_SERVICE_NAME":       c.service,
		"REPLICA_ID":            replica,
		"BUS_URL":               rabbitMQ.Via(rabbit).URL(),
		"BUS_EXCHANGE":          c.exchange,
		"STORE_URL":             "redis://" + store + "/0",
		"STORE_KEY_PREFIX":      c.prefix,
		"POSTGRES_ENABLED":      "false",
		"ELASTICSEARCH_ENABLED": "false",
		"MILVUS_ENABLED":        "false",
		"REDIS_ENABLED":         "false",
		"NACOS_ENABLED":         "false",
		"RABBITMQ_ENABLED":      "false",
		"REGISTRY_ENABLED":      "false",
		"DATA_DIR":              filepath.Join(c.dir, "data-"+replica),
	}
	for k, v := range extra {
		e[k] = v
	}
	return e
}

// writeTargets writes a targets file and returns its path.
func (c *cluster) writeTargets(yaml string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, fmt.Sprintf("targets-%d.yaml", rand.Int()))
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

func (c *cluster) load(env map[string]string) *config.Config {
	c.t.Helper()
	cfg, err := config.Load(config.LoadOptions{Environ: env, Dir: c.dir})
	if err != nil {
		c.t.Fatalf("config: %v", err)
	}
	return cfg
}

// replica is one running in-process instance with its own connections.
type replica struct {
	id       string
	app      *app
	rabbit   *servers.Proxy
	store    *servers.Proxy
	ctx      context.Context
	cancel   context.CancelFunc
	done     chan error
	running  bool
	stopOnce sync.Once
	// url is the base URL of the replica's API.
	url string
}

func (c *cluster) start(id string, extra map[string]string, opts appOptions) *replica {
	c.t.Helper()
	return c.startBehind(id, extra, opts, nil)
}

// startBehind is start with a hook that sets up the replica's proxies to
// RabbitMQ and Redis before it connects (to start it with them down).
func (c *cluster) startBehind(id string, extra map[string]string, opts appOptions, before func(r *replica)) *replica {
	c.t.Helper()
	r := &replica{id: id, rabbit: servers.StartProxy(c.t, rabbitAddr), store: servers.StartProxy(c.t, redisAddr)}
	if before != nil {
		before(r)
	}
	cfg := c.load(c.env(id, r.rabbit.Addr(), r.store.Addr(), extra))
	log := testLogger(c.t, id)
	ctx, cancel := context.WithCancel(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		c.t.Fatal(err)
	}
	opts.Listener = ln
	r.url = "http://" + ln.Addr().String()
	a, err := newApp(ctx, cfg, log, opts)
	if err != nil {
		cancel()
		c.t.Fatalf("replica %s: %v", id, err)
	}
	r.app, r.ctx, r.cancel, r.done = a, ctx, cancel, make(chan error, 1)
	c.t.Cleanup(r.stop)
	if before == nil && !cfg.Bus.Embedded() {
		// The bus connects in the background; tests that bind to the
		// exchange right away need the topology declared.
		wctx, wcancel := context.WithTimeout(ctx, 20*time.Second)
		defer wcancel()
		if err := a.bus.WaitConnected(wctx); err != nil {
			c.t.Fatalf("replica %s: %v", id, err)
		}
	}
	return r
}

// run starts the replica's components.
func (r *replica) run() *replica {
	go func() { r.done <- r.app.run(r.ctx) }()
	r.running = true
	return r
}

func (r *replica) stop() {
	r.stopOnce.Do(func() {
		r.cancel()
		if !r.running {
			r.app.close()
			_ = r.app.ln.Close()
			return
		}
		select {
		case <-r.done:
		case <-time.After(20 * time.Second):
		}
	})
}

// testLogger logs to the test log only when -v is given.
func testLogger(t *testing.T, replica string) *slog.Logger {
	var w io.Writer = io.Discard
	if testing.Verbose() {
		w = tlogWriter{t}
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn})).With("replica", replica)
}

type tlogWriter struct{ t *testing.T }

func (w tlogWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// observer is a downstream consumer bound to db.health.# on the cluster's
// exchange, as the README tells other services to bind.
type observer struct {
	mu      sync.Mutex
	checked []events.HealthChecked
	changed []events.StateChanged
	ids     map[string]int
	bad     int
}

func (c *cluster) observe(binding string) *observer {
	c.t.Helper()
	conn, err := amqp.Dial(rabbitMQ.URL())
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		c.t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, binding, c.exchange, false, nil); err != nil {
		c.t.Fatal(err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	o := &observer{ids: map[string]int{}}
	go func() {
		for d := range deliveries {
			e, err := events.Decode(d.Body)
			o.mu.Lock()
			if err != nil || d.MessageId != e.ID || d.Type != e.Type {
				o.bad++
				o.mu.Unlock()
				continue
			}
			o.ids[e.ID]++
			switch e.Type {
			case events.TypeHealthChecked:
				h, _ := e.HealthChecked()
				o.checked = append(o.checked, h)
			case events.TypeStateChanged:
				s, _ := e.StateChanged()
				if o.ids[e.ID] == 1 {
					o.changed = append(o.changed, s)
				}
			}
			o.mu.Unlock()
		}
	}()
	return o
}

func (o *observer) snapshot() ([]events.HealthChecked, []events.StateChanged, map[string]int, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := make(map[string]int, len(o.ids))
	for k, v := range o.ids {
		ids[k] = v
	}
	return append([]events.HealthChecked(nil), o.checked...), append([]events.StateChanged(nil), o.changed...), ids, o.bad
}

// scriptedFacts are the facts of a scripted fake target.
type scriptedFacts struct {
	State probes.State `json:"scripted_state"`
}

func (f scriptedFacts) Health(probes.Limits) (probes.State, string) {
	if f.State == probes.StateUp {
		return probes.StateUp, ""
	}
	return f.State, "scripted " + string(f.State)
}

// scriptClient answers with whatever state its script says now.
type scriptClient struct {
	name  string
	state func(name string) probes.State
	count func(name string)
}

func (c scriptClient) Probe(ctx context.Context) (probes.Facts, error) {
	c.count(c.name)
	return scriptedFacts{State: c.state(c.name)}, nil
}
func (c scriptClient) Stats() probes.PoolStats { return probes.PoolStats{Open: 1} }
func (c scriptClient) Close() error            { return nil }

// scriptedOpeners opens scriptClients for every kind.
func scriptedOpeners(state func(string) probes.State, count func(string)) map[probes.Kind]probes.Opener {
	m := map[probes.Kind]probes.Opener{}
	for _, k := range probes.Kinds {
		m[k] = func(_ context.Context, t probes.Target) (probes.Client, error) {
			return scriptClient{name: t.ID(), state: state, count: count}, nil
		}
	}
	return m
}

// relayPendingOf reports how many transitions replica holds unpublished
// (-1 when the store cannot tell).
func (a *app) relayPendingOf(ctx context.Context, replica string) int64 {
	if a.store.SharedRelay == nil {
		return -1
	}
	n, err := a.store.SharedRelay.PendingOf(ctx, replica)
	if err != nil {
		return -1
	}
	return n
}
