package service_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/fakees"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// Schedule of the SIGKILL test.
const (
	skTargets   = 10
	skInterval  = time.Second
	skClaimIdle = 6 * time.Second
	// skPhase is the shortest time a fake keeps a state: far more than a
	// transition needs (one interval plus one retry), even with a replica
	// dying in between.
	skPhase = 3 * time.Second
	// skTick is the flipper's tick; each target flips every skPhase/skTick
	// ticks, targets staggered so a few flip on every tick.
	skTick = 500 * time.Millisecond
)

// TestSigkillReplicaWithPendingOutbox runs three processes of the built
// binary over the machine's RabbitMQ and Redis, probing fake Elasticsearch
// nodes that turn red and green on a schedule. One replica loses RabbitMQ,
// so its relay holds the transitions it reads from the outbox without
// being able to publish them; it is then killed with SIGKILL. A consumer
// bound to db.health.# must still see, per target, a contiguous chain of
// StateChanged with one transition per flip of the fake, none missing,
// none twice (the survivors reclaim the dead replica's entries), and the
// survivors must keep every target probed.
func TestSigkillReplicaWithPendingOutbox(t *testing.T) {
	c := cluster.New(t)
	bin := cluster.BuildBinary(t)
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { _ = rdb.Close() })
	outbox := c.Prefix + ":outbox"

	fakes := make([]*fakees.Server, skTargets)
	var doc strings.Builder
	doc.WriteString("targets:\n")
	for i := range fakes {
		fakes[i] = fakees.New(t)
		fmt.Fprintf(&doc, "  - {name: %s, type: elasticsearch, hosts: [%q]}\n", skName(i), fakes[i].URL())
	}
	// The first replica starts without targets, so no transition happens
	// before the observer is bound; the targets file is filled after.
	targets := filepath.Join(c.Dir, "sigkill-targets.yaml")
	cluster.WriteFileAtomic(t, targets, "targets: []\n")
	env := func(id string, p *servers.Proxy) map[string]string {
		return c.Env(id, p.Addr(), redisAddr, map[string]string{
			"DB_SERVICE_PORT":   strconv.Itoa(servers.FreePort(t)),
			"TARGETS_FILE":      targets,
			"PROBE_INTERVAL":    skInterval.String(),
			"PROBE_TIMEOUT":     "200ms",
			"RETRY_INTERVAL":    "100ms",
			"FAILURE_THRESHOLD": "2",
			"SUCCESS_THRESHOLD": "2",
			"OUTBOX_CLAIM_IDLE": skClaimIdle.String(),
		})
	}
	ids := []string{"r1", "r2", "r3"}
	procs := make([]*proc, len(ids))
	procs[0] = startProc(t, bin, ids[0], env)
	waitExchange(t, c.Exchange, procs[0])
	obs := c.Observe("db.health.#")
	cluster.WriteFileAtomic(t, targets, doc.String())
	procs[1] = startProc(t, bin, ids[1], env)
	procs[2] = startProc(t, bin, ids[2], env)
	waitFor(t, "the initial transition of every target", waitLimit, func() (bool, string) {
		_, changed, _, _ := obs.Snapshot()
		n := 0
		for _, s := range changed {
			if s.Seq == 1 {
				n++
			}
		}
		return n == skTargets, fmt.Sprintf("%d of %d", n, skTargets)
	})

	fl := newFlipper(fakes)
	flipCtx, stopFlipping := context.WithCancel(t.Context())
	flipDone := make(chan struct{})
	go func() { defer close(flipDone); fl.run(flipCtx) }()
	t.Cleanup(func() { stopFlipping(); <-flipDone })
	time.Sleep(2 * time.Second)

	// The victim loses RabbitMQ at a moment it holds nothing, so every
	// entry it holds at the kill was read after the cut: it cannot have
	// published any of them.
	victim := procs[2]
	pendingOf := func(consumer string) []redis.XPendingExt {
		res, err := rdb.XPendingExt(t.Context(), &redis.XPendingExtArgs{
			Stream: outbox, Group: "relay", Start: "-", End: "+", Count: 10000, Consumer: consumer,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			t.Logf("XPENDING: %v", err)
		}
		return res
	}
	waitFor(t, "the victim to hold no outbox entry", waitLimit, func() (bool, string) {
		n := len(pendingOf(victim.ID))
		return n == 0, fmt.Sprintf("%d pending", n)
	})
	victim.rabbit.SetRefuse(true)
	victim.rabbit.Cut()
	t.Logf("fault: %s cut off from RabbitMQ", victim.ID)
	var held []redis.XPendingExt
	waitFor(t, "the victim to hold unpublished transitions", waitLimit, func() (bool, string) {
		held = pendingOf(victim.ID)
		return len(held) > 0, fmt.Sprintf("%d pending", len(held))
	})
	heldIDs := heldEventIDs(t, rdb, outbox, held)
	if victim.Exited() {
		t.Fatalf("%s exited before the kill", victim.ID)
	}
	if err := victim.Cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL %s: %v", victim.ID, err)
	}
	<-victim.Done()
	killedAt := time.Now()
	t.Logf("fault: %s killed (SIGKILL) holding %d unpublished transitions %v", victim.ID, len(held), heldIDs)

	time.Sleep(4 * time.Second)
	stopFlipping()
	<-flipDone
	frozenAt := time.Now()
	flips, final := fl.snapshot()

	// Settle: the survivors reclaim the dead replica's entries after the
	// claim idle time, pending debounces complete, deliveries arrive.
	waitFor(t, "every transition published and the outbox drained", skClaimIdle+waitLimit, func() (bool, string) {
		_, changed, _, _ := obs.Snapshot()
		last := lastTo(changed)
		for i := range skTargets {
			if last[skSubject(i)] != stateOf(final[i]) {
				return false, fmt.Sprintf("%s last %q, fake %s", skSubject(i), last[skSubject(i)], stateOf(final[i]))
			}
		}
		n, err := rdb.XLen(t.Context(), outbox).Result()
		return err == nil && n == 0, fmt.Sprintf("outbox length %d (%v)", n, err)
	})
	time.Sleep(time.Second) // a duplicate would arrive by now
	checked, changed, seen, bad := obs.Snapshot()

	if bad > 0 {
		t.Errorf("%d messages failed to decode or had wrong AMQP properties", bad)
	}
	byTarget := map[string][]events.StateChanged{}
	for _, s := range changed {
		byTarget[s.Target.Subject()] = append(byTarget[s.Target.Subject()], s)
	}
	total, lost, flipsTotal := 0, 0, 0
	for i := range skTargets {
		id := skSubject(i)
		chain := byTarget[id]
		sort.Slice(chain, func(a, b int) bool { return chain[a].Seq < chain[b].Seq })
		total += len(chain)
		flipsTotal += len(flips[i])
		// Every flip came after the target's initial transition (flipping
		// started once all were seen), which found the fake green.
		want := []string{"UP"}
		for _, red := range flips[i] {
			want = append(want, stateOf(red))
		}
		if len(chain) < len(want) {
			lost += len(want) - len(chain)
		}
		if got := tos(chain); !slices.Equal(got, want) {
			t.Errorf("%s: transitions to %v, want %v (1 initial + %d flips)", id, got, want, len(flips[i]))
		}
		prev := "UNKNOWN"
		for k, s := range chain {
			if s.Seq != int64(k+1) || s.From != prev || s.Epoch != chain[0].Epoch || s.Initial != (k == 0) {
				t.Errorf("%s: broken chain at %d: seq %d epoch %d (first %d) %s->%s initial %v",
					id, k, s.Seq, s.Epoch, chain[0].Epoch, s.From, s.To, s.Initial)
				break
			}
			prev = s.To
		}
	}
	dups, checkDups := 0, 0
	for id, n := range seen {
		switch strings.Count(id, ":") {
		case 2: // StateChanged
			dups += n - 1
		case 1: // HealthChecked: best effort, at least once
			checkDups += n - 1
		}
	}
	if dups > 0 {
		t.Errorf("%d StateChanged delivered more than once", dups)
	}
	for _, id := range heldIDs {
		if seen[id] != 1 {
			t.Errorf("transition %s held by the killed replica delivered %d times, want 1", id, seen[id])
		}
	}
	if n := len(pendingOf(victim.ID)); n > 0 {
		t.Errorf("the killed replica still owns %d outbox entries", n)
	}

	// The survivors kept probing every target, each interval. (Gaps are
	// measured between probe times: each replica schedules with jitter, so
	// the winners' claim slots can skip one while the probes do not.)
	from := killedAt.Add(skInterval)
	lastCheck, maxGap := map[string]time.Time{}, map[string]time.Duration{}
	sort.Slice(checked, func(a, b int) bool { return checked[a].CheckedAt.Before(checked[b].CheckedAt) })
	for _, h := range checked {
		at := h.CheckedAt
		if at.Before(from) || at.After(frozenAt) {
			continue
		}
		id := h.Target.Subject()
		if h.Prober == victim.ID {
			t.Errorf("%s checked by the killed replica at %v", id, at)
		}
		if last, ok := lastCheck[id]; ok {
			maxGap[id] = max(maxGap[id], at.Sub(last))
		}
		lastCheck[id] = at
	}
	worst := time.Duration(0)
	for i := range skTargets {
		id := skSubject(i)
		if _, ok := lastCheck[id]; !ok {
			t.Errorf("%s: no check after the kill", id)
		}
		if g := maxGap[id]; g > 2*skInterval+skInterval/2 {
			t.Errorf("%s: %v between checks after the kill (interval %v)", id, g, skInterval)
		}
		worst = max(worst, maxGap[id])
	}

	t.Logf("flips %d; transitions %d (expected %d); held by %s at kill %d; lost %d; duplicates %d; "+
		"checks %d (duplicate checks %d); worst gap between checks after the kill %v",
		flipsTotal, total, flipsTotal+skTargets, victim.ID, len(held), lost, dups, len(checked), checkDups, worst.Round(time.Millisecond))
}

// skName is the name of the i-th target.
func skName(i int) string { return fmt.Sprintf("es%02d", i) }

// skSubject is the event subject of the i-th target.
func skSubject(i int) string { return "elasticsearch/" + skName(i) }

// stateOf is the state a fake's cluster status maps to.
func stateOf(red bool) string {
	if red {
		return "DOWN"
	}
	return "UP"
}

// tos lists the to-states of a chain.
func tos(chain []events.StateChanged) []string {
	out := make([]string, len(chain))
	for i, s := range chain {
		out[i] = s.To
	}
	return out
}

// lastTo maps each subject to the to-state of its highest seq.
func lastTo(changed []events.StateChanged) map[string]string {
	seq, out := map[string]int64{}, map[string]string{}
	for _, s := range changed {
		id := s.Target.Subject()
		if s.Seq > seq[id] {
			seq[id], out[id] = s.Seq, s.To
		}
	}
	return out
}

// heldEventIDs reads the StateChanged ids of the given outbox entries.
func heldEventIDs(t *testing.T, rdb *redis.Client, outbox string, held []redis.XPendingExt) []string {
	t.Helper()
	var out []string
	for _, p := range held {
		msgs, err := rdb.XRange(t.Context(), outbox, p.ID, p.ID).Result()
		if err != nil || len(msgs) != 1 {
			t.Fatalf("outbox entry %s: %v (%d found)", p.ID, err, len(msgs))
		}
		v := msgs[0].Values
		out = append(out, fmt.Sprintf("%v/%v:%v:%v", v["type"], v["name"], v["epoch"], v["seq"]))
	}
	return out
}

// flipper turns fakes red and green: on tick k, target i flips when
// (k+i) is a multiple of skPhase/skTick and its state has lasted skPhase.
type flipper struct {
	fakes []*fakees.Server
	mu    sync.Mutex
	red   []bool
	last  []time.Time
	flips [][]bool // per target, the state (red?) after each flip
}

func newFlipper(fakes []*fakees.Server) *flipper {
	now := time.Now()
	f := &flipper{fakes: fakes, red: make([]bool, len(fakes)), last: make([]time.Time, len(fakes)), flips: make([][]bool, len(fakes))}
	for i := range f.last {
		f.last[i] = now.Add(-skPhase)
	}
	return f
}

func (f *flipper) run(ctx context.Context) {
	every := int(skPhase / skTick)
	tick := time.NewTicker(skTick)
	defer tick.Stop()
	for k := 0; ; k++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		f.mu.Lock()
		for i, es := range f.fakes {
			if (k+i)%every != 0 || time.Since(f.last[i]) < skPhase {
				continue
			}
			f.red[i] = !f.red[i]
			f.last[i] = time.Now()
			f.flips[i] = append(f.flips[i], f.red[i])
			if f.red[i] {
				es.SetStatus("red")
			} else {
				es.SetStatus("green")
			}
		}
		f.mu.Unlock()
	}
}

// snapshot returns every target's flips and its current state (red?).
func (f *flipper) snapshot() ([][]bool, []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	flips := make([][]bool, len(f.flips))
	for i := range f.flips {
		flips[i] = slices.Clone(f.flips[i])
	}
	return flips, slices.Clone(f.red)
}

// proc is one running process of the binary, reaching RabbitMQ through
// its own proxy.
type proc struct {
	*cluster.Proc
	rabbit *servers.Proxy
}

// startProc starts replica id with the environment env gives it (for its
// RabbitMQ proxy); the test's cleanup kills it.
func startProc(t *testing.T, bin, id string, env func(string, *servers.Proxy) map[string]string) *proc {
	t.Helper()
	dir := t.TempDir()
	rabbit := servers.StartProxy(t, rabbitAddr)
	e := env(id, rabbit)
	if _, ok := e["DATA_DIR"]; !ok {
		e["DATA_DIR"] = filepath.Join(dir, "data")
	}
	return &proc{Proc: cluster.StartProc(t, bin, id, dir, cluster.Environ(t, e)), rabbit: rabbit}
}

// waitExchange waits until p has declared the exchange.
func waitExchange(t *testing.T, exchange string, p *proc) {
	t.Helper()
	conn, err := amqp.Dial(rabbitMQ.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitFor(t, "the first replica to declare the topology", waitLimit, func() (bool, string) {
		if p.Exited() {
			t.Fatalf("%s exited: %s", p.ID, p.Cmd.ProcessState)
		}
		ch, err := conn.Channel()
		if err != nil {
			return false, err.Error()
		}
		defer ch.Close()
		// A passive declare of a missing exchange closes the channel.
		if err := ch.ExchangeDeclarePassive(exchange, amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}
