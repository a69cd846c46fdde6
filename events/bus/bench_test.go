package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/cputime"
)

// benchEvents are HealthChecked events of 1000 targets (~500 bytes each).
func benchEvents(b *testing.B) []events.Envelope {
	kinds := []string{"postgres", "redis", "elasticsearch", "milvus", "nacos", "rabbitmq"}
	evs := make([]events.Envelope, 1000)
	for i := range evs {
		e, err := events.NewHealthChecked("bench", events.HealthChecked{
			Target: events.TargetRef{Type: kinds[i%len(kinds)], Name: fmt.Sprint("target-", i)}, State: "UP",
			LatencyMS: 1.25, Details: rawJSON(map[string]any{"version": "15.4", "connections": 12, "max_connections": 100}),
			CheckedAt: time.Now().UTC(), Slot: int64(i), Prober: "bench-replica",
		})
		if err != nil {
			b.Fatal(err)
		}
		evs[i] = e
	}
	return evs
}

// brokerCPU is the CPU time of the local RabbitMQ node, or 0: the
// beam.smp process with the most CPU time (rabbitmqctl runs short-lived
// beam.smp processes too).
func brokerCPU() time.Duration {
	var best time.Duration
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		comm, err := os.ReadFile("/proc/" + d.Name() + "/comm")
		if err != nil || strings.TrimSpace(string(comm)) != "beam.smp" {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the ")" that ends the command: utime and stime are
		// the 12th and 13th, in clock ticks (100 per second on Linux).
		f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		best = max(best, time.Duration(u+s)*10*time.Millisecond)
	}
	return best
}

type cpuMark struct{ client, broker time.Duration }

func markCPU() cpuMark { return cpuMark{cputime.Process(), brokerCPU()} }

// report adds events/s and the CPU µs per event of this process and of
// the broker.
func report(b *testing.B, n int, m cpuMark) {
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64((cputime.Process()-m.client).Microseconds())/float64(n), "client-cpu-µs/event")
	if m.broker > 0 {
		b.ReportMetric(float64((brokerCPU()-m.broker).Microseconds())/float64(n), "broker-cpu-µs/event")
	}
}

// asyncBus is a bus on cfg whose PublishAsync buffer holds b.N events,
// and the events to publish.
func asyncBus(b *testing.B, cfg Config) (*Bus, []events.Envelope) {
	cfg.AsyncBuffer = max(b.N, 1024)
	return newBus(b, cfg), benchEvents(b)
}

// publishAsync publishes b.N of evs with PublishAsync. A full buffer fails
// the benchmark, or with waitFull is waited out and not counted as a drop.
func publishAsync(b *testing.B, bus *Bus, evs []events.Envelope, waitFull bool) {
	for i := range b.N {
		for !bus.PublishAsync(evs[i%len(evs)]) {
			if !waitFull {
				b.Fatal("dropped")
			}
			time.Sleep(time.Millisecond)
		}
	}
}

// publishConsumed runs bus, publishes b.N of evs with publishAsync and
// reports the rate and CPU cost once count has seen them all.
func publishConsumed(b *testing.B, bus *Bus, evs []events.Envelope, count *benchCounter, waitFull bool) {
	runBus(b, bus)
	cpu0 := markCPU()
	b.ResetTimer()
	publishAsync(b, bus, evs, waitFull)
	count.wait(b)
	report(b, b.N, cpu0)
}

// benchCounter counts the events a benchmark's consumer handled and closes
// done once there are n.
type benchCounter struct {
	n    int64
	got  atomic.Int64
	once sync.Once
	done chan struct{}
}

func newBenchCounter(n int) *benchCounter {
	return &benchCounter{n: int64(n), done: make(chan struct{})}
}

func (c *benchCounter) add(k int) {
	if c.got.Add(int64(k)) >= c.n {
		c.once.Do(func() { close(c.done) })
	}
}

// countAll adds the consumer group "bench" to bus, which counts every
// event up to b.N.
func countAll(b *testing.B, bus *Bus) *benchCounter {
	count := newBenchCounter(b.N)
	if err := bus.AddConsumer("bench", []string{"db.health.#"}, func(context.Context, events.Envelope) error {
		count.add(1)
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return count
}

// wait waits for all n events, at most 5 minutes.
func (c *benchCounter) wait(b *testing.B) {
	select {
	case <-c.done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("consumed %d of %d", c.got.Load(), c.n)
	}
}

// BenchmarkPublishConfirmed: Publish of one event at a time from 64
// goroutines, each waiting for its confirm (the StateChanged path).
func BenchmarkPublishConfirmed(b *testing.B) {
	bus := newBus(b, rabbitConfig(b))
	evs := benchEvents(b)
	var i atomic.Int64
	b.SetParallelism(32) // x GOMAXPROCS goroutines
	cpu0 := markCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e := evs[i.Add(1)%int64(len(evs))]
			if err := bus.Publish(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	report(b, b.N, cpu0)
}

// BenchmarkPublishBatch: Publish of 100 events at once (pipelined on the
// channels), one batch at a time, as the outbox relay does.
func BenchmarkPublishBatch(b *testing.B) {
	bus := newBus(b, rabbitConfig(b))
	evs := benchEvents(b)
	const batch = 100
	cpu0 := markCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		n := min(batch, b.N-i)
		off := i % (len(evs) - batch)
		if err := bus.Publish(context.Background(), evs[off:off+n]...); err != nil {
			b.Fatal(err)
		}
	}
	report(b, b.N, cpu0)
}

// BenchmarkPublishAsync: PublishAsync of b.N events until all are
// confirmed (the HealthChecked path).
func BenchmarkPublishAsync(b *testing.B) {
	bus, evs := asyncBus(b, rabbitConfig(b))
	counter := bus.metrics.published.WithLabelValues(events.TypeHealthChecked)
	base := testutil.ToFloat64(counter)
	cpu0 := markCPU()
	b.ResetTimer()
	publishAsync(b, bus, evs, false)
	for testutil.ToFloat64(counter)-base < float64(b.N) {
		time.Sleep(time.Millisecond)
	}
	report(b, b.N, cpu0)
}

// BenchmarkPublishConsume: events/s end to end on RabbitMQ: b.N events
// published with PublishAsync and handled by a consumer group (one quorum
// queue, single active consumer, prefetch 64, full middleware stack, a
// handler that only counts).
func BenchmarkPublishConsume(b *testing.B) {
	benchPublishConsume(b, rabbitConfig(b, "bench"))
}

// BenchmarkEmbeddedPublishConsume: the same through the embedded bus.
func BenchmarkEmbeddedPublishConsume(b *testing.B) {
	benchPublishConsume(b, Config{})
}

func benchPublishConsume(b *testing.B, cfg Config) {
	bus, evs := asyncBus(b, cfg)
	count := countAll(b, bus)
	publishConsumed(b, bus, evs, count, false)
}

// BenchmarkConsume: consumer throughput alone, from a queue filled
// beforehand (one group, Config.Concurrency at its default).
func BenchmarkConsume(b *testing.B) {
	bus, evs := asyncBus(b, rabbitConfig(b, "bench"))
	count := countAll(b, bus)
	for i := 0; i < b.N; i += 100 {
		off := i % (len(evs) - 100)
		if err := bus.Publish(context.Background(), evs[off:off+min(100, b.N-i)]...); err != nil {
			b.Fatal(err)
		}
	}
	cpu0 := markCPU()
	b.ResetTimer()
	runBus(b, bus)
	<-count.done
	report(b, b.N, cpu0)
}

// rawJSON encodes v as JSON details.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// BenchmarkCheckPath: the HealthChecked path end to end on RabbitMQ: b.N
// events published with PublishAsync (transient, confirmed) and handed in
// batches to a check consumer (classic queue, multiple acks) that only
// counts.
func BenchmarkCheckPath(b *testing.B) {
	bus, evs := asyncBus(b, rabbitConfig(b, "checks"))
	count := newBenchCounter(b.N)
	if err := bus.AddCheckConsumer("checks", []string{"db.health.checked.*"}, func(_ context.Context, hs []events.HealthChecked) ([]int, error) {
		count.add(len(hs))
		return nil, nil
	}); err != nil {
		b.Fatal(err)
	}
	publishConsumed(b, bus, evs, count, true)
}
