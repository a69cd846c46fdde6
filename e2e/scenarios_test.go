//go:build e2e

package e2e

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/testsupport/wait"
)

// incident kills the victim while fault is in force, measures, and brings
// the victim back once its DOWN is seen: inject starts the fault, the
// victim dies a second later, the fault lasts w.s.outage, then repair
// ends it. busDown says the fault keeps events from being published, so
// the API's truth during it is measured.
func (w *world) incident(inject, repair func(), busDown bool) {
	t := w.t
	t.Helper()
	inject()
	time.Sleep(time.Second)
	killedAt := time.Now()
	w.targets[victim].Kill()
	var stop func() (time.Duration, bool)
	if busDown {
		stop = w.apiWatch(killedAt)
	}
	time.Sleep(w.s.outage - time.Second)
	if busDown {
		d, ok := stop()
		if ok {
			w.res.apiDown = append(w.res.apiDown, d)
		} else {
			t.Errorf("no replica's API showed %s DOWN during the %s outage", victim, w.s.outage)
		}
	}
	repair()
	down := w.waitChain(victim, "DOWN")
	w.res.detect = append(w.res.detect, down.At.Sub(killedAt))
	w.recoverVictim(true)
}

// recoverVictim restarts the victim and waits for its UP; measured says
// whether the recovery time counts in the figures.
func (w *world) recoverVictim(measured bool) {
	backAt := time.Now()
	w.targets[victim].Start()
	up := w.waitChain(victim, "UP")
	if measured {
		w.res.recover = append(w.res.recover, up.At.Sub(backAt))
	} else {
		w.res.note("recovery %s during the fault", up.At.Sub(backAt).Round(10*time.Millisecond))
	}
}

// TestBrokerSigkill: the broker is SIGKILLed, the target dies during the
// outage, the broker starts again with its definitions.
func TestBrokerSigkill(t *testing.T) {
	w := newWorld(t, "broker-sigkill")
	w.start()
	w.rabbit.SyncRaDirectory() // the broker's queues as a long-running broker has them
	w.incident(w.rabbit.Kill, w.rabbit.Start, true)
	w.verify(1)
}

// TestBrokerDefinitionsLost: the same, but the broker comes back empty
// (its definitions and messages deleted). The replicas are let in only
// once the downstream observer has declared its queue again, as a
// downstream service declares its own queues.
func TestBrokerDefinitionsLost(t *testing.T) {
	w := newWorld(t, "broker-definitions-lost")
	w.start()
	w.incident(func() {
		w.rabbit.Kill()
		w.rabbit.Forget()
	}, func() {
		binds := w.obs.bindCount()
		w.brokerLinks(false)
		w.rabbit.Start()
		w.obs.waitBound(t, binds+1)
		w.brokerLinks(true)
	}, true)
	w.verify(1)
}

// TestStoreSigkill: the store (appendfsync always) is SIGKILLed twice:
// once with nothing happening, once right after the first failed check
// of the dying target, before its DOWN could be decided.
func TestStoreSigkill(t *testing.T) {
	w := newWorld(t, "store-sigkill", "--appendonly", "yes", "--appendfsync", "always")
	w.start()

	w.store.Kill()
	time.Sleep(w.s.interval + 3*time.Second)
	w.store.Start()
	time.Sleep(2 * w.s.interval)

	w.obs.resetFailing()
	killedAt := time.Now()
	w.targets[victim].Kill()
	wait.Eventually(t, w.s.interval+30*time.Second, "a failed check of the victim", func() (bool, string) {
		return !w.obs.failingSince(subject(victim)).IsZero(), "none yet"
	})
	w.store.Kill()
	storeKilledAt := time.Now()
	if ch := w.obs.chain(subject(victim)); len(ch) > 1 {
		w.res.note("DOWN decided before the store died")
	} else {
		w.res.note("store killed mid-transition")
	}
	time.Sleep(w.s.interval + 3*time.Second)
	w.store.Start()
	down := w.waitChain(victim, "DOWN")
	w.res.detect = append(w.res.detect, down.At.Sub(killedAt))
	w.res.note("store down %s", time.Since(storeKilledAt).Round(time.Second))
	w.recoverVictim(true)
	w.verify(1)
}

// TestReplicaSigkillHoldingTransitions: every replica loses the broker,
// the target dies, and the replica whose relay holds the DOWN transition
// (read from the outbox, unpublished) is SIGKILLed; the others get the
// broker back and must take the transition over. The dead replica is then
// started again under the same id.
func TestReplicaSigkillHoldingTransitions(t *testing.T) {
	w := newWorld(t, "replica-sigkill")
	w.start()
	w.brokerLinks(false)
	time.Sleep(time.Second)
	killedAt := time.Now()
	w.targets[victim].Kill()
	stop := w.apiWatch(killedAt)
	var holder string
	wait.Eventually(t, w.s.outage+30*time.Second, "a replica to hold the DOWN unpublished", func() (bool, string) {
		res, err := w.rdb.XPendingExt(context.Background(), &redis.XPendingExtArgs{
			Stream: "e2e:outbox", Group: "relay", Start: "-", End: "+", Count: 100,
		}).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return false, err.Error()
		}
		if len(res) == 0 {
			return false, "no pending entry"
		}
		holder = res[0].Consumer
		return w.procs[holder] != nil, fmt.Sprintf("held by %q", holder)
	})
	wait.Eventually(t, w.s.interval+10*time.Second, "an API to show the victim DOWN while the broker is unreachable", func() (bool, string) {
		for _, p := range w.procs {
			if apiState(p, victim) == "DOWN" {
				return true, ""
			}
		}
		return false, "UP everywhere"
	})
	if d, ok := stop(); ok {
		w.res.apiDown = append(w.res.apiDown, d)
	}
	if len(w.obs.chain(subject(victim))) > 1 {
		t.Fatalf("a transition was published while every replica was cut from the broker")
	}
	w.procs[holder].Kill()
	delete(w.procs, holder)
	w.res.note("%s killed holding the DOWN", holder)
	w.brokerLinks(true)
	down := w.waitChain(victim, "DOWN")
	w.res.detect = append(w.res.detect, down.At.Sub(killedAt))
	w.startReplica(holder)
	w.recoverVictim(true)
	w.verify(1)
}

// TestNetworkCuts: every replica's link to the broker is cut while the
// target dies, then every link to the store while it comes back.
func TestNetworkCuts(t *testing.T) {
	w := newWorld(t, "network-cuts")
	w.start()
	w.incidentCuts()
	w.verify(1)
}

// incidentCuts is incident with the broker links cut, and the recovery
// under cut store links.
func (w *world) incidentCuts() {
	w.brokerLinks(false)
	time.Sleep(time.Second)
	killedAt := time.Now()
	w.targets[victim].Kill()
	stop := w.apiWatch(killedAt)
	time.Sleep(w.s.outage - time.Second)
	if d, ok := stop(); ok {
		w.res.apiDown = append(w.res.apiDown, d)
	} else {
		w.t.Errorf("no replica's API showed %s DOWN while the broker links were cut", victim)
	}
	w.brokerLinks(true)
	down := w.waitChain(victim, "DOWN")
	w.res.detect = append(w.res.detect, down.At.Sub(killedAt))

	w.storeLinks(false)
	go func() {
		time.Sleep(w.s.interval + 5*time.Second)
		w.storeLinks(true)
	}()
	w.recoverVictim(false)
}
