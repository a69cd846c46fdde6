//go:build !race

package registry_test

import (
	"context"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/database-service/registry"
	"github.com/dbhealth/database-service/testsupport/fakenacos"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// The tests of this file make the registry's SDK client reconnect or
// recover from failed requests, which races inside nacos-sdk-go (see the
// package documentation): they are built without -race, and `make test`
// runs them (^TestSDK) without it.

func TestSDKReconnectAfterRestart(t *testing.T) {
	fake := fakenacos.Start(t)
	r := start(t, config(fake, 18091))
	wait.Eventually(t, 10*time.Second, "registered", wait.Bool(func() bool { return r.Status().Registered }))
	if _, err := r.Update(context.Background(), registry.UpdateRequest{Metadata: map[string]string{"zone": "b"}}); err != nil {
		t.Fatal(err)
	}
	first := *r.Status().LastRegisteredAt
	settle() // see settle: the SDK's own redo of the registration must end first

	start := time.Now()
	fake.Stop()
	wait.Eventually(t, 10*time.Second, "disconnected", wait.Bool(func() bool {
		s := r.Status()
		return s.ConnectionState == registry.StateDisconnected && !s.Registered && s.LastError != ""
	}))
	t.Logf("loss noticed %d ms after Stop: %s", time.Since(start).Milliseconds(), r.Status().LastError)
	settle()
	if err := fake.Restart(); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	wait.Eventually(t, 10*time.Second, "registered again", wait.Bool(func() bool { return len(fake.Instances(service, "", "")) == 1 && r.Status().Registered }))
	t.Logf("registered again %d ms after Restart", time.Since(start).Milliseconds())
	in := fake.Instances(service, "", "")
	if in[0].Metadata["zone"] != "b" || in[0].Metadata["replica_id"] != "replica-18091" {
		t.Fatalf("metadata not kept across re-registration: %v", in[0].Metadata)
	}
	if st := r.Status(); !st.LastRegisteredAt.After(first) || st.ConnectionState != registry.StateConnected || st.LastError != "" {
		t.Fatalf("status %+v", st)
	}
}

// settle waits out two races inside nacos-sdk-go v2.3.2 that -race reports
// (see settle in the fakenacos tests): a closed client revived by a
// reconnect attempt that was in flight, and the SDK's late redo of a
// registration on a connection that meanwhile went away.
func settle() { time.Sleep(300 * time.Millisecond) }

// TestSDKReconnectOneClient runs sessions over Nacos restarts and outages:
// registration recovers after each, through one SDK naming client, and
// the process does not grow goroutines.
func TestSDKReconnectOneClient(t *testing.T) {
	fake := fakenacos.Start(t)
	var naming *atomic.Int32
	r := startWith(t, config(fake, 18103), func(r *registry.Registry) { naming, _ = registry.CountSDKClients(r) })
	wait.Eventually(t, 10*time.Second, "registered", wait.Bool(func() bool { return r.Status().Registered }))

	stop := func() error { fake.Stop(); return nil }
	down := func() error { fake.Down(); return nil }
	faults := []struct {
		name      string
		stop, run func() error
	}{
		{"restart 1", stop, fake.Restart}, {"down 1", down, fake.Up}, {"restart 2", stop, fake.Restart},
		{"down 2", down, fake.Up}, {"restart 3", stop, fake.Restart}, {"restart 4", stop, fake.Restart},
	}
	base := 0
	for i, f := range faults {
		_ = f.stop()
		wait.Eventually(t, 10*time.Second, f.name+": loss noticed", wait.Bool(func() bool { return !r.Status().Registered }))
		if err := f.run(); err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		wait.Eventually(t, 10*time.Second, f.name+": registered again", wait.Bool(func() bool {
			return r.Status().Registered && len(fake.Instances(service, "", "")) == 1
		}))
		t.Logf("%s: registered again %d ms after the server came back", f.name, time.Since(began).Milliseconds())
		settle()
		if i == 0 { // after a first recovery, what stays is a leak
			base = runtime.NumGoroutine()
		}
	}
	if n := naming.Load(); n != 1 {
		t.Fatalf("%d naming clients built, want 1", n)
	}
	noGoroutineGrowth(t, base, "five more outages")
}

// goroutineSlack is how many goroutines more than at the start a test
// tolerates at its end (timers, gRPC transports winding down). A naming
// client per session, as the registry once built, leaked two goroutines
// per session.
const goroutineSlack = 4

// noGoroutineGrowth waits up to 5s for the number of goroutines to come
// back to at most base+goroutineSlack, and fails t if it does not.
func noGoroutineGrowth(t *testing.T, base int, over string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	n := runtime.NumGoroutine()
	for n > base+goroutineSlack && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		n = runtime.NumGoroutine()
	}
	t.Logf("goroutines: %d before, %d after %s", base, n, over)
	if n > base+goroutineSlack {
		t.Fatalf("goroutines grew from %d to %d over %s", base, n, over)
	}
}

// TestSDKSessionsOneClient ends several sessions by failing heartbeats
// (the server answers errors, the connection stays; the SDK's recovery
// from failed requests races too): each next session registers again
// through the same SDK client, and the process does not grow goroutines.
func TestSDKSessionsOneClient(t *testing.T) {
	fake := fakenacos.Start(t)
	var naming *atomic.Int32
	r := startWith(t, config(fake, 18101), func(r *registry.Registry) { naming, _ = registry.CountSDKClients(r) })
	wait.Eventually(t, 10*time.Second, "registered", wait.Bool(func() bool { return r.Status().Registered }))
	base := 0
	for i := range 6 {
		if i == 1 { // after a first new session, what stays is a leak
			base = runtime.NumGoroutine()
		}
		before := fake.Requests("InstanceRequest")
		// Two heartbeats of three SDK attempts each.
		fake.FailNext("ServiceListRequest", 6)
		wait.Eventually(t, 10*time.Second, "session "+strconv.Itoa(i)+" lost and registered again", wait.Bool(func() bool {
			return fake.Requests("InstanceRequest") > before && r.Status().Registered
		}))
		if in := fake.Instances(service, "", ""); len(in) != 1 {
			t.Fatalf("instances %+v", in)
		}
	}
	if n := naming.Load(); n != 1 {
		t.Fatalf("%d naming clients built, want 1", n)
	}
	noGoroutineGrowth(t, base, "five more sessions")
}
