package service_test

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
)

// flapWorld scripts 50 fake targets: flappers alternate UP/DOWN every
// period (each with its own phase offset), the others stay UP. Freeze stops
// time for the script, so the final state is known.
type flapWorld struct {
	start  time.Time
	period time.Duration
	mu     sync.Mutex
	frozen time.Time
	first  map[string]time.Time // first probe of each target
	probes map[string]int
}

func (w *flapWorld) offset(id string) time.Duration {
	h := fnv.New32a()
	h.Write([]byte(id))
	return time.Duration(h.Sum32()%1000) * w.period / 1000
}

func (w *flapWorld) phaseAt(id string, at time.Time) int {
	if !strings.Contains(id, "/flap") {
		return 0
	}
	return int((at.Sub(w.start) + w.offset(id)) / w.period)
}

func (w *flapWorld) now() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.frozen.IsZero() {
		return w.frozen
	}
	return time.Now()
}

func (w *flapWorld) state(id string) probes.State {
	if w.phaseAt(id, w.now())%2 == 1 {
		return probes.StateDown
	}
	return probes.StateUp
}

func (w *flapWorld) count(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.first[id]; !ok {
		w.first[id] = time.Now()
	}
	w.probes[id]++
}

func (w *flapWorld) freeze() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.frozen = time.Now()
}

// expected is the number of transitions target id must have made: the
// initial one plus one per phase change between its first probe and the
// freeze.
func (w *flapWorld) expected(id string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return 1 + w.phaseAt(id, w.frozen) - w.phaseAt(id, w.first[id])
}

// TestClusterSharesProbingAndEmitsEveryTransitionOnce runs three replicas
// over the machine's RabbitMQ and Redis with 50 scripted targets, injects
// faults (RabbitMQ connections closed, Redis connections cut, a replica
// killed while its relay holds transitions it could not publish), and checks
// what a downstream consumer bound to db.health.# saw: per target a
// contiguous chain of StateChanged, one per transition the targets made,
// none missing, none twice; and scheduled probes at most once per slot.
func TestClusterSharesProbingAndEmitsEveryTransitionOnce(t *testing.T) {
	c := cluster.New(t)
	const interval = time.Second
	w := &flapWorld{start: time.Now(), period: 3 * time.Second, first: map[string]time.Time{}, probes: map[string]int{}}
	var b strings.Builder
	b.WriteString("targets:\n")
	for i := range 50 {
		kind := probes.Kinds[i%len(probes.Kinds)]
		name := fmt.Sprintf("steady%02d", i)
		if i < 12 {
			name = fmt.Sprintf("flap%02d", i)
		}
		fmt.Fprintf(&b, "  - {name: %s, type: %s, host: 127.0.0.1, port: 1}\n", name, kind)
	}
	extra := map[string]string{
		"TARGETS_FILE":      c.WriteTargets(b.String()),
		"PROBE_INTERVAL":    interval.String(),
		"PROBE_TIMEOUT":     "200ms",
		"RETRY_INTERVAL":    "100ms",
		"FAILURE_THRESHOLD": "2",
		"SUCCESS_THRESHOLD": "2",
	}
	opts := service.Options{Openers: cluster.ScriptedOpeners(w.state, w.count), RelayClaimIdle: 3 * time.Second}

	r1 := c.Start("r1", extra, opts) // declares the topology
	obs := c.Observe("db.health.#")
	r2 := c.Start("r2", extra, opts)
	r3 := c.Start("r3", extra, opts)
	replicas := []*cluster.Replica{r1.Run(), r2.Run(), r3.Run()}

	time.Sleep(4 * time.Second)
	faultAt := time.Now()
	t.Log("fault: every RabbitMQ connection of every replica closed")
	for _, r := range replicas {
		r.Rabbit.Cut()
	}
	time.Sleep(3 * time.Second)
	t.Log("fault: every Redis connection of every replica cut")
	for _, r := range replicas {
		r.Store.Cut()
	}
	time.Sleep(3 * time.Second)
	t.Log("fault: r3 loses RabbitMQ, holds transitions it cannot publish, then dies")
	r3.Rabbit.SetRefuse(true)
	r3.Rabbit.Cut()
	time.Sleep(1500 * time.Millisecond)
	pending := r1.App.RelayPendingOf(t.Context(), "r3")
	resent := mayRepeat(t, r3)
	r3.Store.SetRefuse(true)
	r3.Store.Cut()
	r3.Stop()
	killedAt := time.Now()
	t.Logf("r3 killed holding %d unpublished transitions", pending)
	time.Sleep(4 * time.Second)
	w.freeze()
	frozenAt := time.Now()
	// Settle: confirmations, the relay's reclaim of r3's entries, delivery.
	time.Sleep(4 * time.Second)

	checked, changed, ids, bad := obs.Snapshot()
	if bad > 0 {
		t.Errorf("%d messages failed to decode or had wrong AMQP properties", bad)
	}
	dups := 0
	for id, n := range ids {
		if n > 1 && strings.Contains(id, ":") && strings.Count(id, ":") == 2 {
			dups += n - 1
		}
	}
	// Transitions: per target a contiguous chain, one per scripted change.
	byTarget := map[string][]events.StateChanged{}
	for _, s := range changed {
		byTarget[s.Target.Subject()] = append(byTarget[s.Target.Subject()], s)
	}
	total, missing := 0, 0
	for id := range w.first {
		chain := byTarget[id]
		sort.Slice(chain, func(i, j int) bool { return chain[i].Seq < chain[j].Seq })
		want := w.expected(id)
		total += len(chain)
		if len(chain) != want {
			missing += want - len(chain)
			t.Errorf("%s: %d transitions, want %d", id, len(chain), want)
		}
		prev := "UNKNOWN"
		for i, s := range chain {
			if s.Seq != int64(i+1) || s.From != prev || s.Epoch != chain[0].Epoch || s.Initial != (i == 0) {
				t.Errorf("%s: broken chain at %d: %+v", id, i, s)
				break
			}
			prev = s.To
		}
		if len(chain) > 0 && chain[len(chain)-1].To != string(w.state(id)) {
			t.Errorf("%s: last transition to %s, but the target is %s", id, chain[len(chain)-1].To, w.state(id))
		}
	}
	if len(w.first) != 50 {
		t.Errorf("%d of 50 targets were probed", len(w.first))
	}
	// A transition is decided once, but its delivery is at least once: a
	// publish cut off before its confirm is sent again, and the broker
	// may have routed the first one. So a transition may arrive twice
	// only as often as a replica sent one again after a failed send.
	resent += mayRepeat(t, r1) + mayRepeat(t, r2)
	if float64(dups) > resent {
		t.Errorf("%d StateChanged delivered twice, but the replicas sent only %v again after a failed send", dups, resent)
	}
	// Scheduled probes: at most once per interval slot across replicas
	// (steady targets only ever have scheduled probes; checked before the
	// faults, when no check was lost or retried).
	perSlot := map[string]int{}
	seenCheck := map[string]bool{} // a redelivered HealthChecked is one check
	lastSlot := map[string]int64{}
	maxGap := map[string]time.Duration{}
	for _, h := range checked {
		id := h.Target.Subject()
		if !strings.Contains(id, "/steady") {
			continue
		}
		if h.CheckedAt.Before(faultAt) && !seenCheck[h.ID()] {
			seenCheck[h.ID()] = true
			perSlot[fmt.Sprintf("%s@%d", id, h.Slot/interval.Milliseconds())]++
		}
		at := time.UnixMilli(h.Slot)
		if at.After(killedAt.Add(interval)) && at.Before(frozenAt) {
			if last, ok := lastSlot[id]; ok {
				if gap := at.Sub(time.UnixMilli(last)); gap > maxGap[id] {
					maxGap[id] = gap
				}
			}
			lastSlot[id] = h.Slot
		}
	}
	twice := 0
	for k, n := range perSlot {
		if n > 1 {
			twice++
			t.Errorf("%s probed %d times in one slot", k, n)
		}
	}
	// After the kill the survivors keep every target probed each interval.
	for id, gap := range maxGap {
		if gap > 2*interval+interval/2 {
			t.Errorf("%s: %v between checks after the kill (interval %v)", id, gap, interval)
		}
	}
	if len(maxGap) < 38 {
		t.Errorf("only %d steady targets checked after the kill", len(maxGap))
	}
	t.Logf("checks seen %d, slots checked before faults %d (probed twice: %d); transitions %d, missing %d, duplicates %d (sent again after a failed send: %v); r3 held at kill %d",
		len(checked), len(perSlot), twice, total, missing, dups, resent, pending)
}

// mayRepeat is how many transitions replica r sent again although they
// may have reached the broker: within one Publish after a failed send
// (the bus's republished), and by the relay after a publish or an
// acknowledgement that failed, or after a reclaim (the outbox's
// republished).
func mayRepeat(t *testing.T, r *cluster.Replica) float64 {
	t.Helper()
	return metricValue(t, r, "dbhealth_bus_events_republished_total", `type="`+events.TypeStateChanged+`"`) +
		metricValue(t, r, "dbhealth_outbox_republished_total")
}
