package probes_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/fakemilvus"
)

// milvusWaitConns waits until the fake has n client connections open.
func milvusWaitConns(t *testing.T, fake *fakemilvus.Server, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for fake.Conns() != n {
		if time.Now().After(deadline) {
			t.Fatalf("fake has %d connections, want %d", fake.Conns(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMilvusWatchNoticesStop(t *testing.T) {
	fake := fakemilvus.New(t)
	target := milvusTarget(fake.Host(), fake.Port())
	c := probes.OpenForTest(t, probes.OpenMilvus, target)
	w, ok := c.(probes.Watcher)
	if !ok {
		t.Fatal("the Milvus client is not a Watcher")
	}
	if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateUp {
		t.Fatalf("probe: %s %s", r.State, r.Error)
	}

	ctx, cancel := context.WithCancel(context.Background())
	lost := make(chan string, 8)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Watch(ctx, func(reason string) { lost <- reason })
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()

	for round := 1; round <= 2; round++ {
		milvusWaitConns(t, fake, 2) // the probes' connection and the watcher's
		for deadline := time.Now().Add(5 * time.Second); c.Stats().Open != 2; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: stats %+v, want 2 open", round, c.Stats())
			}
		}
		start := time.Now()
		fake.Stop()
		select {
		case reason := <-lost:
			t.Logf("round %d: watcher noticed the stop after %.1f ms: %s", round, float64(time.Since(start).Microseconds())/1000, reason)
			if !strings.Contains(reason, fake.Addr()) {
				t.Errorf("reason %q does not name the address", reason)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("round %d: watcher did not notice the stop", round)
		}
		select {
		case reason := <-lost:
			t.Fatalf("round %d: a second lost for one stop: %s", round, reason)
		case <-time.After(50 * time.Millisecond):
		}
		fake.Restart()
		// The probes' connection was dropped with the failure... or not
		// (no probe ran): probe so that both connections exist again.
		if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateUp {
			t.Fatalf("round %d: probe after restart: %s %s", round, r.State, r.Error)
		}
	}
}

func TestMilvusWatchStopsWithContext(t *testing.T) {
	fake := fakemilvus.New(t)
	c := probes.OpenForTest(t, probes.OpenMilvus, milvusTarget(fake.Host(), fake.Port()))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.(probes.Watcher).Watch(ctx, func(reason string) { t.Errorf("lost on cancel: %s", reason) })
	}()
	milvusWaitConns(t, fake, 1)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Watch did not return after cancel")
	}
	milvusWaitConns(t, fake, 0)
}
