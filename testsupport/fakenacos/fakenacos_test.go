package fakenacos

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/dbhealth/database-service/testsupport/wait"
)

// sdkDir holds the SDK's logs and caches for the whole test binary: the SDK
// logger is process-global and keeps writing into the LogDir of the last
// client created, so a per-test t.TempDir would be recreated under its
// cleanup ("directory not empty").
var sdkDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fakenacos-sdk-")
	if err != nil {
		panic(err)
	}
	sdkDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// clientParam is the SDK configuration for s: logs and cache in sdkDir,
// short timeouts.
func clientParam(t *testing.T, s *Server, user, pass string) vo.NacosClientParam {
	t.Helper()
	dir := filepath.Join(sdkDir, t.Name())
	return vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			TimeoutMs:            3000,
			LogDir:               dir + "/log",
			CacheDir:             dir + "/cache",
			NotLoadCacheAtStart:  true,
			UpdateCacheWhenEmpty: true,
			LogLevel:             "warn",
			Username:             user,
			Password:             pass,
		},
		ServerConfigs: []constant.ServerConfig{{IpAddr: s.Host(), Port: uint64(s.HTTPPort())}},
	}
}

func naming(t *testing.T, s *Server, user, pass string) naming_client.INamingClient {
	t.Helper()
	c, err := clients.NewNamingClient(clientParam(t, s, user, pass))
	if err != nil {
		t.Fatalf("NewNamingClient: %v", err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

func configClient(t *testing.T, s *Server) config_client.IConfigClient {
	t.Helper()
	c, err := clients.NewConfigClient(clientParam(t, s, "", ""))
	if err != nil {
		t.Fatalf("NewConfigClient: %v", err)
	}
	t.Cleanup(c.CloseClient)
	return c
}

// registered is a naming client of s (closed at the end of the test, the
// test may close it sooner) that registered ip:7000 as svc in group G and
// let the SDK's late "connected" redo finish while the node is up.
func registered(t *testing.T, s *Server, ip string) naming_client.INamingClient {
	t.Helper()
	c := naming(t, s, "", "")
	if okReg, err := c.RegisterInstance(register(ip, 7000, nil)); err != nil || !okReg {
		t.Fatalf("RegisterInstance = %v, %v", okReg, err)
	}
	settle()
	return c
}

func register(ip string, port uint64, md map[string]string) vo.RegisterInstanceParam {
	return vo.RegisterInstanceParam{
		Ip: ip, Port: port, ServiceName: "svc", GroupName: "G",
		Weight: 1, Enable: true, Healthy: true, Ephemeral: true, Metadata: md,
	}
}

func TestRegisterDeregister(t *testing.T) {
	s := Start(t)
	c := naming(t, s, "", "")
	okReg, err := c.RegisterInstance(register("10.0.0.1", 8080, map[string]string{"k": "v"}))
	if err != nil || !okReg {
		t.Fatalf("RegisterInstance = %v, %v", okReg, err)
	}
	got := s.Instances("svc", "G", "")
	if len(got) != 1 || got[0].Ip != "10.0.0.1" || got[0].Port != 8080 || got[0].Metadata["k"] != "v" || !got[0].Healthy {
		t.Fatalf("Instances = %+v", got)
	}
	sel, err := c.SelectInstances(vo.SelectInstancesParam{ServiceName: "svc", GroupName: "G", HealthyOnly: true})
	if err != nil || len(sel) != 1 {
		t.Fatalf("SelectInstances = %+v, %v", sel, err)
	}
	okDereg, err := c.DeregisterInstance(vo.DeregisterInstanceParam{Ip: "10.0.0.1", Port: 8080, ServiceName: "svc", GroupName: "G", Ephemeral: true})
	if err != nil || !okDereg {
		t.Fatalf("DeregisterInstance = %v, %v", okDereg, err)
	}
	// The SDK answers before its redo bookkeeping settles (its redo task,
	// every 3 s, may register the instance once more before it drops it);
	// the fake must end with no instance.
	wait.Eventually(t, 10*time.Second, "no instance after deregister", func() (bool, string) {
		got := s.Instances("svc", "G", "")
		return len(got) == 0, fmt.Sprintf("%+v", got)
	})
}

func TestSubscribePushAndEphemeralRemoval(t *testing.T) {
	s := Start(t)
	watcher := naming(t, s, "", "")
	var mu sync.Mutex
	var last []model.Instance
	calls := 0
	err := watcher.Subscribe(&vo.SubscribeParam{ServiceName: "svc", GroupName: "G", SubscribeCallback: func(in []model.Instance, err error) {
		mu.Lock()
		defer mu.Unlock()
		last, calls = in, calls+1
	}})
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	hosts := func() int { mu.Lock(); defer mu.Unlock(); return len(last) }

	other, err := clients.NewNamingClient(clientParam(t, s, "", ""))
	if err != nil {
		t.Fatal(err)
	}
	if okReg, err := other.RegisterInstance(register("10.0.0.2", 9000, nil)); err != nil || !okReg {
		t.Fatalf("RegisterInstance = %v, %v", okReg, err)
	}
	wait.Eventually(t, 10*time.Second, "push with one instance", wait.Bool(func() bool { return hosts() == 1 }))

	// Closing the registering client drops its connection: the ephemeral
	// instance goes and the subscriber is told.
	other.CloseClient()
	wait.Eventually(t, 10*time.Second, "instance removed", wait.Bool(func() bool { return len(s.Instances("svc", "G", "")) == 0 }))
	wait.Eventually(t, 10*time.Second, "push with no instance", wait.Bool(func() bool { return hosts() == 0 }))
}

func TestAuth(t *testing.T) {
	s := Start(t)
	s.RequireAuth("nacos", "s3cret")

	bad := naming(t, s, "nacos", "wrong")
	okReg, err := bad.RegisterInstance(register("10.0.0.3", 1, nil))
	if okReg || err != nil {
		t.Fatalf("wrong password: RegisterInstance = %v, %v; want false, nil", okReg, err)
	}
	if n := len(s.Instances("svc", "G", "")); n != 0 {
		t.Fatalf("rejected registration stored %d instances", n)
	}

	good := naming(t, s, "nacos", "s3cret")
	okReg, err = good.RegisterInstance(register("10.0.0.3", 1, nil))
	if !okReg || err != nil {
		t.Fatalf("right password: RegisterInstance = %v, %v", okReg, err)
	}

	resp, err := http.PostForm("http://"+s.Addr()+"/nacos/v1/auth/users/login", map[string][]string{"username": {"nacos"}, "password": {"nope"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("login with wrong password: %d", resp.StatusCode)
	}
}

func TestConfigListenAndPublish(t *testing.T) {
	s := Start(t)
	s.PublishConfig("app.yaml", "G", "v: 1")
	c := configClient(t, s)
	content, err := c.GetConfig(vo.ConfigParam{DataId: "app.yaml", Group: "G"})
	if err != nil || content != "v: 1" {
		t.Fatalf("GetConfig = %q, %v", content, err)
	}
	got := make(chan string, 10)
	if err := c.ListenConfig(vo.ConfigParam{DataId: "app.yaml", Group: "G", OnChange: func(_, _, _, data string) { got <- data }}); err != nil {
		t.Fatal(err)
	}
	// The SDK sends its first ConfigBatchListenRequest within 5s. It then
	// marks the entry in sync after reading the answer, overwriting the
	// mark of a push that arrived in between (an SDK race): publish again
	// until a push lands after that window.
	wait.Eventually(t, 10*time.Second, "listener registered", wait.Bool(func() bool { return s.ConfigListeners("app.yaml", "G") == 1 }))
	delivered := false
	for i := 2; i < 7 && !delivered; i++ {
		want := "v: " + strconv.Itoa(i)
		start := time.Now()
		s.PublishConfig("app.yaml", "G", want)
		select {
		case v := <-got:
			if v != want {
				t.Fatalf("listener got %q, want %q", v, want)
			}
			t.Logf("push delivered in %v", time.Since(start))
			delivered = true
		case <-time.After(2 * time.Second):
		}
	}
	if !delivered {
		t.Fatal("listener never called")
	}

	published, err := c.PublishConfig(vo.ConfigParam{DataId: "other", Group: "G", Content: "x"})
	if err != nil || !published {
		t.Fatalf("PublishConfig = %v, %v", published, err)
	}
	if v, found := s.Config("other", "G"); !found || v != "x" {
		t.Fatalf("Config = %q, %v", v, found)
	}
}

func TestDownUp(t *testing.T) {
	s := Start(t)
	c := registered(t, s, "10.0.0.4")

	s.Down()
	if code, body := get(t, "http://"+s.Addr()+"/nacos/v1/console/health/readiness"); code != 500 {
		t.Fatalf("readiness while down: %d %s", code, body)
	}
	if code, _ := get(t, "http://"+s.Addr()+"/nacos/v1/console/health/liveness"); code != 200 {
		t.Fatalf("liveness while down: %d", code)
	}
	if _, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(s.GRPCPort()), time.Second); err == nil {
		t.Fatal("gRPC port accepts connections while down")
	}
	wait.Eventually(t, 10*time.Second, "instance removed while down", wait.Bool(func() bool { return len(s.Instances("svc", "G", "")) == 0 }))
	wait.Eventually(t, 10*time.Second, "SDK not healthy while down", wait.Bool(func() bool { return !c.ServerHealthy() }))
	// Close before Up: the SDK's own reconnect is racy (see package doc).
	c.CloseClient()
	settle()

	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, "http://"+s.Addr()+"/nacos/v1/console/health/readiness"); code != 200 {
		t.Fatalf("readiness after Up: %d", code)
	}
	c2 := naming(t, s, "", "")
	if okReg, err := c2.RegisterInstance(register("10.0.0.4", 7000, nil)); err != nil || !okReg {
		t.Fatalf("RegisterInstance after Up = %v, %v", okReg, err)
	}
}

func TestStopRestart(t *testing.T) {
	s := Start(t)
	s.PublishConfig("kept", "", "yes")
	c := registered(t, s, "10.0.0.5")
	s.Stop()
	if _, err := http.Get("http://" + s.Addr() + "/nacos/v1/console/health/readiness"); err == nil {
		t.Fatal("HTTP answered while stopped")
	}
	c.CloseClient()
	settle()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	if n := len(s.Instances("svc", "G", "")); n != 0 {
		t.Fatalf("ephemeral instances survived a restart: %d", n)
	}
	if v, found := s.Config("kept", ""); !found || v != "yes" {
		t.Fatalf("config lost in restart: %q %v", v, found)
	}
	c2 := naming(t, s, "", "")
	if okReg, err := c2.RegisterInstance(register("10.0.0.5", 7000, nil)); err != nil || !okReg {
		t.Fatalf("RegisterInstance after Restart = %v, %v", okReg, err)
	}
	if code, body := get(t, "http://"+s.Addr()+"/nacos/v2/console/health/readiness"); code != 200 || !strings.Contains(body, `"code":0`) {
		t.Fatalf("v2 readiness: %d %s", code, body)
	}
}

func TestServerState(t *testing.T) {
	s := Start(t)
	s.SetVersion("2.4.0")
	if code, body := get(t, "http://"+s.Addr()+"/nacos/v1/console/server/state"); code != 200 || !strings.Contains(body, `"version":"2.4.0"`) {
		t.Fatalf("state: %d %s", code, body)
	}
}

// settle waits out two races of nacos-sdk-go v2.3.2 that -race reports:
//   - a closed client finishes a reconnect attempt that was in flight when
//     it was closed, and does not check for shutdown after connecting: an
//     attempt that reaches a node restarted in that window brings the
//     closed client back to life (and writes currentConnection unguarded);
//   - the SDK handles its first "connected" event on another goroutine,
//     possibly after the first RegisterInstance, and then registers the
//     cached instance again (its redo); if the node went away meanwhile,
//     that request reads the client status non-atomically while the stream
//     goroutine has changed it.
func settle() { time.Sleep(300 * time.Millisecond) }

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPortPair(t *testing.T) {
	s := Start(t)
	if s.GRPCPort() != s.HTTPPort()+1000 {
		t.Fatalf("ports %d/%d", s.HTTPPort(), s.GRPCPort())
	}
}
