package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/eventtest"
	"github.com/dbhealth/database-service/testsupport/servers"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// testURL is the machine's RabbitMQ (TEST_RABBITMQ_URL overrides it).
func testURL() string { return servers.MachineRabbitMQ().URL() }

// testLogger logs through t at warn and above (debug with BUS_TEST_DEBUG).
func testLogger(t testing.TB) *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("BUS_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: level}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// rabbitConfig returns a configuration with a unique exchange and service
// name, and deletes what the test declares (the queues of groups) when it
// ends. It skips in -short mode.
func rabbitConfig(t testing.TB, groups ...string) Config {
	t.Helper()
	if testing.Short() {
		t.Skip("needs RabbitMQ")
	}
	id := fmt.Sprintf("%d%04d", time.Now().UnixNano()%1_000_000_000, rand.IntN(10000))
	cfg := Config{
		URL:         secret.String(testURL()),
		Exchange:    "test.bus." + id,
		ServiceName: "bus-test-" + id,
		ReplicaID:   "r1",
	}.WithDefaults()
	t.Cleanup(func() { deleteTopology(t, cfg, groups...) })
	return cfg
}

// deleteTopology removes the exchanges and queues of cfg and groups.
func deleteTopology(t testing.TB, cfg Config, groups ...string) {
	conn, err := amqp.Dial(testURL())
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	defer conn.Close()
	queues := []string{cfg.UnroutedExchange(), cfg.PoisonQueue()}
	for _, g := range groups {
		queues = append(queues, cfg.QueueName(g))
	}
	for _, q := range queues {
		// A failed delete closes the channel: one channel per delete.
		if ch, err := conn.Channel(); err == nil {
			_, _ = ch.QueueDelete(q, false, false, false)
			_ = ch.Close()
		}
	}
	for _, x := range []string{cfg.Exchange, cfg.UnroutedExchange(), cfg.DeadLetterExchange()} {
		if ch, err := conn.Channel(); err == nil {
			_ = ch.ExchangeDelete(x, false, false)
			_ = ch.Close()
		}
	}
}

// rawChannel opens a plain amqp091 channel for inspecting the broker.
func rawChannel(t testing.TB) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(testURL())
	if err != nil {
		t.Fatalf("dial RabbitMQ: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// queueLen is the number of ready messages in a queue (-1 if it is missing).
func queueLen(t testing.TB, name string) int {
	t.Helper()
	n := -1
	withChannel(t, func(ch *amqp.Channel) {
		if q, err := ch.QueueDeclarePassive(name, true, false, false, false, nil); err == nil {
			n = q.Messages
		}
	})
	return n
}

// exclusiveQueueExists reports whether a queue exclusive to another
// connection exists (a passive declaration then fails with 405).
func exclusiveQueueExists(t testing.TB, name string) bool {
	t.Helper()
	var exists bool
	withChannel(t, func(ch *amqp.Channel) {
		_, err := ch.QueueDeclarePassive(name, false, true, true, false, nil)
		var aerr *amqp.Error
		exists = err == nil || errors.As(err, &aerr) && aerr.Code == amqp.ResourceLocked
	})
	return exists
}

// withChannel runs f on a channel of a connection of its own, closed
// after.
func withChannel(t testing.TB, f func(ch *amqp.Channel)) {
	t.Helper()
	conn, err := amqp.Dial(testURL())
	if err != nil {
		t.Fatalf("dial RabbitMQ: %v", err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	f(ch)
}

// newBus builds a bus closed when the test ends.
func newBus(t testing.TB, cfg Config) *Bus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := New(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = b.Close() })
	if err := b.WaitConnected(ctx); err != nil {
		t.Fatalf("connect: %v", err)
	}
	return b
}

// runBus runs b until the test ends; Run must return nil.
func runBus(t testing.TB, b *Bus) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

// checked is a HealthChecked envelope of target kind/name at slot.
func checked(t testing.TB, kind, name string, slot int64) events.Envelope {
	t.Helper()
	h := eventtest.Check(kind, name, "UP", slot)
	h.LatencyMS = 1.5
	return eventtest.Checked(t, "test", h)
}

// changed is a StateChanged envelope of target kind/name with seq.
func changed(t testing.TB, kind, name string, seq int64) events.Envelope {
	t.Helper()
	h := eventtest.Check(kind, name, "DOWN", 1_700_000_000+seq)
	h.Slot = seq
	s := eventtest.Transition(h, "UP", seq)
	s.Reason = "test"
	return eventtest.Changed(t, "test", s)
}

// recorder is a Handler that records the ids it handled.
type recorder struct {
	mu    sync.Mutex
	ids   map[string]int
	dels  map[string]Delivery
	envs  map[string]events.Envelope
	total atomic.Int64
	fn    func(ctx context.Context, e events.Envelope) error // optional behaviour
}

func newRecorder() *recorder {
	return &recorder{ids: map[string]int{}, dels: map[string]Delivery{}, envs: map[string]events.Envelope{}}
}

func (r *recorder) handle(ctx context.Context, e events.Envelope) error {
	if r.fn != nil {
		if err := r.fn(ctx, e); err != nil {
			return err
		}
	}
	d, _ := DeliveryFrom(ctx)
	r.mu.Lock()
	r.ids[e.ID]++
	r.dels[e.ID] = d
	r.envs[e.ID] = e
	r.mu.Unlock()
	r.total.Add(1)
	return nil
}

func (r *recorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ids[id]
}

func (r *recorder) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

func (r *recorder) idSet() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.ids))
	for k, v := range r.ids {
		out[k] = v
	}
	return out
}

// closeConnections force-closes, from the broker side, every connection
// whose client-provided name starts with prefix, as
// `rabbitmqctl close_all_connections` does but without disturbing other
// clients of the shared broker. It returns how many it closed.
func closeConnections(t testing.TB, prefix string) int {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", "-q", "list_connections", "--no-table-headers", "pid", "client_properties").Output()
	if err != nil {
		t.Fatalf("rabbitmqctl list_connections: %v", err)
	}
	var n atomic.Int32
	var wg sync.WaitGroup
	for _, line := range strings.Split(string(out), "\n") {
		pid, props, ok := strings.Cut(line, "\t")
		if !ok || !strings.Contains(props, `{"connection_name","`+prefix) {
			continue
		}
		wg.Add(1)
		go func() { // at once, as close_all_connections does
			defer wg.Done()
			if out, err := exec.Command("rabbitmqctl", "-q", "close_connection", pid, "test").CombinedOutput(); err != nil {
				t.Logf("rabbitmqctl close_connection %s: %v: %s", pid, err, out)
				return
			}
			n.Add(1)
		}()
	}
	wg.Wait()
	return int(n.Load())
}

// consumedAll reports whether rec has consumed every event of ids (keys
// are event IDs).
func consumedAll[V any](rec *recorder, ids map[string]V) func() bool {
	return func() bool {
		got := rec.idSet()
		for id := range ids {
			if got[id] == 0 {
				return false
			}
		}
		return true
	}
}

// patternGroups are the consumer groups of the routing tests, each bound
// with one pattern ("none" matches no routing key: "*" is one word).
var patternGroups = map[string]string{
	"all":      "db.health.#",
	"changes":  "db.health.state_changed.*",
	"postgres": "db.health.*.postgres",
	"none":     "db.health.*",
}

// addPatternGroups adds to b a recording consumer group for each of
// patternGroups.
func addPatternGroups(t testing.TB, b *Bus) map[string]*recorder {
	t.Helper()
	recs := map[string]*recorder{}
	for g, key := range patternGroups {
		recs[g] = newRecorder()
		if err := b.AddConsumer(g, []string{key}, recs[g].handle); err != nil {
			t.Fatal(err)
		}
	}
	return recs
}

// patternEvents are four events of the routing tests and the ones each of
// patternGroups must get.
func patternEvents(t testing.TB) ([]events.Envelope, map[string][]events.Envelope) {
	evs := []events.Envelope{
		checked(t, "postgres", "main", 1), checked(t, "redis", "cache", 1),
		changed(t, "postgres", "main", 1), changed(t, "milvus", "vec", 1),
	}
	return evs, map[string][]events.Envelope{
		"all":      evs,
		"changes":  {evs[2], evs[3]},
		"postgres": {evs[0], evs[2]},
		"none":     nil,
	}
}

// wantEachOnce waits up to within for group's recorder to have consumed
// every one of evs, and fails the test for any consumed more than once.
func wantEachOnce(t testing.TB, rec *recorder, group string, evs []events.Envelope, within time.Duration) {
	t.Helper()
	wait.Eventually(t, within, group+" events", wait.Bool(func() bool { return rec.distinct() == len(evs) }))
	for _, e := range evs {
		if n := rec.count(e.ID); n != 1 {
			t.Errorf("group %s got %s %d times", group, e.ID, n)
		}
	}
}
