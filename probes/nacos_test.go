package probes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/fakenacos"
	"github.com/dbhealth/database-service/testsupport/servers"
)

func TestNacosFactsHealth(t *testing.T) {
	ready := probes.NacosServerFacts{Address: "a:8848", Ready: true, Status: 200}
	notReady := probes.NacosServerFacts{Address: "b:8848", Status: 500, Reason: "naming not in readiness"}
	unreachable := probes.NacosServerFacts{Address: "c:8848", Reason: "connection refused"}
	probes.RunHealthCases(t, []probes.HealthCase{
		{"all ready, SDK connected", probes.NacosFacts{Servers: []probes.NacosServerFacts{ready}, ServersReady: 1, SDKConnected: true}, probes.Limits{}, probes.StateUp, ""},
		{"SDK not connected", probes.NacosFacts{Servers: []probes.NacosServerFacts{ready}, ServersReady: 1, SDKError: "client not connected"}, probes.Limits{}, probes.StateDown, "gRPC: client not connected"},
		{"not ready and SDK not connected", probes.NacosFacts{Servers: []probes.NacosServerFacts{notReady}}, probes.Limits{}, probes.StateDown, "b:8848 readiness 500: naming not in readiness; gRPC: not connected"},
		{"not ready, SDK connected", probes.NacosFacts{Servers: []probes.NacosServerFacts{notReady}, SDKConnected: true}, probes.Limits{}, probes.StateDegraded, "1/1 servers not ready: b:8848 readiness 500"},
		{"one of three down", probes.NacosFacts{Servers: []probes.NacosServerFacts{ready, unreachable, ready}, ServersReady: 2, SDKConnected: true}, probes.Limits{}, probes.StateDegraded, "1/3 servers not ready: c:8848 unreachable: connection refused"},
	})
}

// nacosSDKDir is where the probes' SDK clients of these tests write logs and
// caches. It is one fixed directory (not t.TempDir): the SDK logger is
// process-global and keeps writing into the LogDir of the last client
// created, after that client's test ended.
var nacosSDKDir = filepath.Join(os.TempDir(), "database-service-test", "probes-nacos")

// nacosOpen opens the Nacos clients of these tests.
var nacosOpen = probes.NacosOpener(nacosSDKDir)

// nacosTarget is a Nacos target on the fake with a short timeout.
func nacosTarget(addrs ...string) probes.Target {
	host, port := "", 0
	if len(addrs) > 0 {
		h, p, _ := net.SplitHostPort(addrs[0])
		host = h
		port, _ = strconv.Atoi(p)
	}
	return probes.Target{
		Kind: probes.Nacos, Name: "nacos-test", Host: host, Port: port, Addresses: addrs,
		Namespace: "public", Group: "DEFAULT_GROUP", Timeout: 3 * time.Second,
	}
}

func TestNacosUp(t *testing.T) {
	fake := fakenacos.Start(t)
	target := nacosTarget(fake.Addr())
	c := probes.OpenForTest(t, nacosOpen, target)
	r := probes.RequireProbe(t, target, c, probes.StateUp, probes.ErrKindNone)
	if r.DetailsMap()["version"] != fakenacos.DefaultVersion || r.DetailsMap()["sdk_connected"] != true || fmt.Sprint(r.DetailsMap()["servers_ready"]) != "1" {
		t.Fatalf("details %s", r.Details)
	}
	t.Logf("first probe (SDK client created) %v", r.Latency)
	r = probes.RunProbe(context.Background(), target, c)
	if r.State != probes.StateUp {
		t.Fatalf("second probe: %s %s", r.State, r.Error)
	}
	t.Logf("second probe %v", r.Latency)
	if st := c.Stats(); st.Acquires != 2 || st.Errors != 0 || st.Open < 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestNacosDown(t *testing.T) {
	fake := fakenacos.Start(t)
	target := nacosTarget(fake.Addr())
	c := probes.OpenForTest(t, nacosOpen, target)
	if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateUp {
		t.Fatalf("before Down: %s %s %s", r.State, r.Reason, r.Error)
	}
	fake.Down()
	r := probes.RequireProbe(t, target, c, probes.StateDown, probes.ErrKindNone)
	if !strings.Contains(r.Reason, "readiness 500") || !strings.Contains(r.Reason, "gRPC") {
		t.Fatalf("reason %q", r.Reason)
	}
	if r.DetailsMap()["sdk_connected"] != false {
		t.Fatalf("details %s", r.Details)
	}
}

func TestNacosDownFromTheStart(t *testing.T) {
	fake := fakenacos.Start(t)
	fake.Down()
	target := nacosTarget(fake.Addr())
	c := probes.OpenForTest(t, nacosOpen, target)
	r := probes.RunProbe(context.Background(), target, c)
	if r.State != probes.StateDown || !strings.Contains(r.Reason, "readiness 500") {
		t.Fatalf("state %s reason %q error %q", r.State, r.Reason, r.Error)
	}
}

func TestNacosAuth(t *testing.T) {
	const password = "wrong-pass-4711"
	fake := fakenacos.Start(t)
	fake.RequireAuth("nacos", "right-pass")

	target := nacosTarget(fake.Addr())
	target.Username, target.Password = "nacos", secret.String(password)
	r := probes.RequireOpenProbe(t, nacosOpen, target, probes.StateDown, probes.ErrKindAuth)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), password) || strings.Contains(r.Error, password) || strings.Contains(r.Reason, password) {
		t.Fatalf("password in the result: %s", b)
	}
	t.Logf("auth rejected: %s", r.Error)

	good := nacosTarget(fake.Addr())
	good.Username, good.Password = "nacos", "right-pass"
	if r := probes.RunProbe(context.Background(), good, probes.OpenForTest(t, nacosOpen, good)); r.State != probes.StateUp {
		t.Fatalf("right password: %s %q %q", r.State, r.Reason, r.Error)
	}
}

func TestNacosRefused(t *testing.T) {
	target := nacosTarget("127.0.0.1:" + strconv.Itoa(servers.FreePort(t)))
	probes.RequireOpenProbe(t, nacosOpen, target, probes.StateDown, probes.ErrKindRefused)
}

func TestNacosSilentServerTimesOut(t *testing.T) {
	target := nacosTarget(servers.StartSilent(t).Addr()) // accepts, never answers
	target.Timeout = 300 * time.Millisecond
	requireTimesOutSoon(t, nacosOpen, target)
}

func TestNacosBadAddress(t *testing.T) {
	for _, a := range []string{"no-port", "host:70000", "host:65000"} {
		_, err := nacosOpen(context.Background(), nacosTarget(a))
		if probes.Classify(err) != probes.ErrKindConfig {
			t.Errorf("%q: err %v, want a config error", a, err)
		}
	}
}

func TestNacosWatcherFiresOnStop(t *testing.T) {
	fake := fakenacos.Start(t)
	target := nacosTarget(fake.Addr())
	c := probes.OpenForTest(t, nacosOpen, target)
	w, ok := c.(probes.Watcher)
	if !ok {
		t.Fatal("the nacos client is no Watcher")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lost := make(chan string, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Watch(ctx, func(reason string) { lost <- reason })
	}()
	deadline := time.Now().Add(5 * time.Second)
	for c.Stats().Open < 1 {
		if time.Now().After(deadline) {
			t.Fatal("watch connection never ready")
		}
		time.Sleep(10 * time.Millisecond)
	}
	start := time.Now()
	fake.Stop()
	select {
	case reason := <-lost:
		t.Logf("watcher fired %d ms after Stop: %s", time.Since(start).Milliseconds(), reason)
	case <-time.After(5 * time.Second):
		t.Fatal("watcher did not fire")
	}
	cancel()
	<-done
}
