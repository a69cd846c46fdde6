package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/registry"
	"github.com/dbhealth/database-service/testsupport/fakenacos"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// sdkDir is where the registries of these tests keep the SDK's logs and
// caches. One fixed directory, not t.TempDir: the SDK logger is
// process-global and keeps writing into the LogDir of the last client
// created, after that client's test ended.
var sdkDir = filepath.Join(os.TempDir(), "database-service-test", "registry")

const service = "database-service-test"

// config is a registry configuration on the fake with fast retries.
func config(fake *fakenacos.Server, port int) registry.Config {
	return registry.Config{
		Enabled:           true,
		Servers:           []string{fake.Addr()},
		ServiceName:       service,
		IP:                "127.0.0.1",
		Port:              port,
		Version:           "1.2.3",
		ReplicaID:         "replica-" + strconv.Itoa(port),
		Roles:             []string{"prober", "api"},
		DataDir:           sdkDir,
		Timeout:           2 * time.Second,
		HeartbeatInterval: 200 * time.Millisecond,
		RetryMin:          50 * time.Millisecond,
		RetryMax:          500 * time.Millisecond,
	}
}

// running is a registry whose Run goroutine the test controls.
type running struct {
	*registry.Registry
	cancel context.CancelFunc
	done   chan struct{} // closed when Run returned
	err    error         // Run's result, once done
}

// stop cancels Run and waits for it to return nil.
func (r *running) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case <-r.done:
		if r.err != nil {
			t.Fatalf("Run returned %v", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

func start(t *testing.T, cfg registry.Config) *running {
	t.Helper()
	return startWith(t, cfg, nil)
}

// startWith is start with a hook that sees the registry before Run.
func startWith(t *testing.T, cfg registry.Config, before func(*registry.Registry)) *running {
	t.Helper()
	r, err := registry.New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if before != nil {
		before(r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr := &running{Registry: r, cancel: cancel, done: make(chan struct{})}
	go func() {
		rr.err = r.Run(ctx)
		close(rr.done)
	}()
	t.Cleanup(func() { rr.stop(t) })
	return rr
}

func TestRegisterAndDeregisterOnShutdown(t *testing.T) {
	fake := fakenacos.Start(t)
	r := start(t, config(fake, 18089))
	wait.Eventually(t, 10*time.Second, "registered", wait.Bool(func() bool { return r.Status().Registered }))

	in := fake.Instances(service, "", "")
	if len(in) != 1 {
		t.Fatalf("instances %+v", in)
	}
	got := in[0]
	if got.Ip != "127.0.0.1" || got.Port != 18089 || !got.Healthy || !got.Enable || got.Weight != 1 || !got.Ephemeral {
		t.Fatalf("instance %+v", got)
	}
	md := got.Metadata
	if md["version"] != "1.2.3" || md["replica_id"] != "replica-18089" || md["roles"] != "prober,api" {
		t.Fatalf("metadata %v", md)
	}
	if _, err := time.Parse(time.RFC3339, md["started_at"]); err != nil {
		t.Fatalf("started_at %q: %v", md["started_at"], err)
	}

	st := r.Status()
	if st.ConnectionState != registry.StateConnected || st.Server != fake.Addr() || st.LastRegisteredAt == nil ||
		st.InstanceID != "127.0.0.1#18089#DEFAULT#DEFAULT_GROUP@@"+service || st.LastError != "" || !st.Enabled {
		t.Fatalf("status %+v", st)
	}
	wait.Eventually(t, 10*time.Second, "a heartbeat after the registration", wait.Bool(func() bool {
		s := r.Status()
		return s.LastHeartbeatAt != nil && s.LastHeartbeatAt.After(*s.LastRegisteredAt)
	}))
	b, _ := json.Marshal(st)
	for _, key := range []string{`"connection_state"`, `"instance_id"`, `"last_registered_at"`, `"peers"`, `"metadata"`} {
		if !strings.Contains(string(b), key) {
			t.Fatalf("status JSON lacks %s: %s", key, b)
		}
	}

	// Shutdown deregisters first: one more InstanceRequest, then nothing
	// left (with the connection still open, only a deregistration removes
	// the instance before Run returns).
	before := fake.Requests("InstanceRequest")
	r.stop(t)
	if n := fake.Requests("InstanceRequest"); n != before+1 {
		t.Fatalf("InstanceRequests %d -> %d, want one deregistration", before, n)
	}
	if in := fake.Instances(service, "", ""); len(in) != 0 {
		t.Fatalf("instances after shutdown %+v", in)
	}
	if st := r.Status(); st.Registered || st.ConnectionState != registry.StateStopped {
		t.Fatalf("status after shutdown %+v", st)
	}
}

func TestUpdate(t *testing.T) {
	fake := fakenacos.Start(t)
	r := start(t, config(fake, 18090))
	wait.Eventually(t, 10*time.Second, "registered", wait.Bool(func() bool { return r.Status().Registered }))

	w, off := 5.0, false
	st, err := r.Update(context.Background(), registry.UpdateRequest{
		Metadata: map[string]string{"zone": "eu-1", "canary": "yes"}, Weight: &w, Enabled: &off,
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if st.Metadata["zone"] != "eu-1" || st.Weight != 5 || st.InstanceEnabled || !st.Registered || st.Metadata["version"] != "1.2.3" {
		t.Fatalf("status %+v", st)
	}
	// Nacos converges on the update. The SDK's own re-registration after
	// its connect event may land a copy taken before it; the registry sees
	// that in the subscription and registers again.
	updated := func(in []model.Instance) bool {
		return len(in) == 1 && in[0].Metadata["zone"] == "eu-1" && in[0].Metadata["canary"] == "yes" &&
			in[0].Weight == 5 && !in[0].Enable && in[0].Metadata["replica_id"] == "replica-18090"
	}
	wait.Eventually(t, 10*time.Second, "the update in nacos", wait.Bool(func() bool {
		return updated(fake.Instances(service, "", ""))
	}))

	// A stale copy landing later (weight, enabled and metadata as before
	// the update) is replaced by the desired instance.
	if !fake.Overwrite(service, "", "", "127.0.0.1", 18090, func(in *model.Instance) {
		in.Weight, in.Enable = 1, true
		delete(in.Metadata, "zone")
	}) {
		t.Fatal("no instance to overwrite")
	}
	wait.Eventually(t, 10*time.Second, "the update restored", wait.Bool(func() bool {
		return updated(fake.Instances(service, "", ""))
	}))

	// An empty value removes a key.
	if _, err := r.Update(context.Background(), registry.UpdateRequest{Metadata: map[string]string{"canary": ""}}); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "the key removed in nacos", wait.Bool(func() bool {
		in := fake.Instances(service, "", "")
		return len(in) == 1 && in[0].Metadata["canary"] == "" && in[0].Metadata["zone"] == "eu-1"
	}))

	// Invalid: nothing changes, the error names the field.
	_, err = r.Update(context.Background(), registry.UpdateRequest{Metadata: map[string]string{"version": "9"}})
	var ve *registry.ValidationError
	if !errors.As(err, &ve) || ve.Field != "metadata.version" {
		t.Fatalf("reserved key: %v", err)
	}
	if in := fake.Instances(service, "", ""); in[0].Metadata["version"] != "1.2.3" {
		t.Fatalf("reserved key overwritten: %v", in[0].Metadata)
	}
}

func TestKeepsTryingWhileNacosDown(t *testing.T) {
	fake := fakenacos.Start(t)
	fake.Down()
	var naming *atomic.Int32
	r := startWith(t, config(fake, 18092), func(r *registry.Registry) { naming, _ = registry.CountSDKClients(r) })
	wait.Eventually(t, 10*time.Second, "failure visible", wait.Bool(func() bool {
		s := r.Status()
		return !s.Registered && s.ConnectionState != registry.StateConnected && strings.Contains(s.LastError, "unreachable")
	}))
	t.Logf("while down: %s", r.Status().LastError)
	if err := fake.Up(); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "registered once up", wait.Bool(func() bool { return r.Status().Registered }))
	if n := len(fake.Instances(service, "", "")); n != 1 {
		t.Fatalf("instances %d", n)
	}
	// No client is built against the dead server; one once it is up.
	if n := naming.Load(); n != 1 {
		t.Fatalf("%d naming clients built, want 1", n)
	}
}

func TestAuthRejected(t *testing.T) {
	const password = "wrong-pass-4711"
	fake := fakenacos.Start(t)
	fake.RequireAuth("nacos", "right-pass")
	cfg := config(fake, 18093)
	cfg.Username, cfg.Password = "nacos", secret.String(password)
	r := start(t, cfg)
	wait.Eventually(t, 10*time.Second, "rejection visible", wait.Bool(func() bool {
		return strings.Contains(r.Status().LastError, "rejected")
	}))
	st := r.Status()
	if st.Registered || st.ConnectionState != registry.StateConnected {
		t.Fatalf("status %+v", st)
	}
	if n := len(fake.Instances(service, "", "")); n != 0 {
		t.Fatalf("instances %d", n)
	}
	b, _ := json.Marshal(st)
	if strings.Contains(string(b), password) {
		t.Fatalf("password in the status: %s", b)
	}
	if _, err := r.Update(context.Background(), registry.UpdateRequest{Metadata: map[string]string{"zone": "x"}}); !errors.Is(err, registry.ErrRejected) {
		t.Fatalf("Update while rejected: %v, want ErrRejected", err)
	}

	// Right credentials register.
	good := config(fake, 18094)
	good.Username, good.Password = "nacos", "right-pass"
	g := start(t, good)
	wait.Eventually(t, 10*time.Second, "registered with the right password", wait.Bool(func() bool { return g.Status().Registered }))
}

func TestTwoReplicasDiscoverEachOther(t *testing.T) {
	fake := fakenacos.Start(t)
	a := start(t, config(fake, 18095))
	b := start(t, config(fake, 18096))
	peerOf := func(r *running, port int) bool {
		p := r.Status().Peers
		return len(p) == 1 && p[0].Port == port && p[0].IP == "127.0.0.1" && p[0].Metadata["replica_id"] == "replica-"+strconv.Itoa(port)
	}
	wait.Eventually(t, 10*time.Second, "a sees b", wait.Bool(func() bool { return peerOf(a, 18096) }))
	wait.Eventually(t, 10*time.Second, "b sees a", wait.Bool(func() bool { return peerOf(b, 18095) }))

	// A disabled instance is no peer.
	off := false
	if _, err := b.Update(context.Background(), registry.UpdateRequest{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "a no longer sees disabled b", wait.Bool(func() bool { return len(a.Status().Peers) == 0 }))
	on := true
	if _, err := b.Update(context.Background(), registry.UpdateRequest{Enabled: &on}); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "a sees b again", wait.Bool(func() bool { return peerOf(a, 18096) }))

	b.stop(t)
	wait.Eventually(t, 10*time.Second, "a sees b leave", wait.Bool(func() bool { return len(a.Status().Peers) == 0 }))
}

func TestWatchConfig(t *testing.T) {
	fake := fakenacos.Start(t)
	fake.PublishConfig("targets.yaml", "", "v: 1")
	cfg := config(fake, 18097)
	cfg.ConfigResync = time.Hour // only pushes count here
	r, err := registry.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan string, 16)
	done := make(chan error, 1)
	go func() { done <- r.WatchConfig(ctx, "targets.yaml", "", func(c string) { got <- c }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchConfig: %v", err)
		}
	}()

	wantContent(t, got, "v: 1", "initial content")
	// The SDK registers its listener within 5s. A push that lands while
	// the SDK is still reading the answer to its listen request is lost
	// by the SDK (the periodic read catches it; it is off here), so
	// publish again until one is delivered.
	wait.Eventually(t, 10*time.Second, "listener registered", wait.Bool(func() bool { return fake.ConfigListeners("targets.yaml", "") == 1 }))
	for i := 2; ; i++ {
		want := "v: " + strconv.Itoa(i)
		published := time.Now()
		fake.PublishConfig("targets.yaml", "", want)
		select {
		case c := <-got:
			if c != want {
				t.Fatalf("pushed content %q, want %q", c, want)
			}
			t.Logf("push delivered %d ms after publish", time.Since(published).Milliseconds())
			return
		case <-time.After(2 * time.Second):
			if i == 6 {
				t.Fatal("no push delivered")
			}
		}
	}
}

func TestWatchConfigResync(t *testing.T) {
	fake := fakenacos.Start(t)
	fake.PublishConfigIn("", "late.yaml", "G", "v: 1")
	cfg := config(fake, 18098)
	cfg.ConfigResync = 100 * time.Millisecond
	r, err := registry.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 16)
	go func() { _ = r.WatchConfig(ctx, "late.yaml", "G", func(c string) { got <- c }) }()
	wantContent(t, got, "v: 1", "initial content")
	wait.Eventually(t, 10*time.Second, "listener registered", wait.Bool(func() bool { return fake.ConfigListeners("late.yaml", "G") == 1 }))
	// A lost push: only the periodic read can deliver the change.
	fake.DropConfigPushes(true)
	fake.PublishConfigIn("", "late.yaml", "G", "v: 2")
	wantContent(t, got, "v: 2", "change without a push")
}

// wantContent waits up to 10s for the next content WatchConfig delivers on
// got and fails the test unless it is want.
func wantContent(t *testing.T, got <-chan string, want, what string) {
	t.Helper()
	select {
	case c := <-got:
		if c != want {
			t.Fatalf("%s %q, want %q", what, c, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s not delivered", what)
	}
}

func TestDisabled(t *testing.T) {
	r, err := registry.New(registry.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := r.Status(); st.Enabled || st.ConnectionState != registry.StateDisabled {
		t.Fatalf("status %+v", st)
	}
	if _, err := r.Update(context.Background(), registry.UpdateRequest{}); !errors.Is(err, registry.ErrDisabled) {
		t.Fatalf("Update: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := r.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
