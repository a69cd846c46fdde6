package service_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/fakenacos"
	"github.com/dbhealth/database-service/testsupport/promtest"
	"github.com/dbhealth/database-service/testsupport/servers"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// getJSON GETs url and decodes the JSON answer into v; it returns the status.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, b)
		}
	}
	return resp.StatusCode
}

func postJSON(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	wait.Eventually(t, d, what, wait.Bool(cond))
}

type statusDoc struct {
	Databases []struct {
		Type, Name, State string
	} `json:"databases"`
}

// states maps "<type>/<name>" to its state in the replica's status.
func states(t *testing.T, r *cluster.Replica) map[string]string {
	var s statusDoc
	getJSON(t, r.URL+"/api/database/status", &s)
	out := map[string]string{}
	for _, d := range s.Databases {
		out[d.Type+"/"+d.Name] = d.State
	}
	return out
}

// metricValue reads the sample called name with exactly labels (`k="v"`)
// of the replica's /metrics; 0 when there is none.
func metricValue(t *testing.T, r *cluster.Replica, name string, labels ...string) float64 {
	resp, err := http.Get(r.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v, _ := promtest.Value(string(b), name, promtest.Labels(labels...))
	return v
}

// counter counts probes per target id.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) inc(id string) { c.mu.Lock(); c.n[id]++; c.mu.Unlock() }
func (c *counter) get(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[id]
}

func upOpeners(c *counter) map[probes.Kind]probes.Opener {
	return cluster.ScriptedOpeners(func(string) probes.State { return probes.StateUp }, c.inc)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil { // atomic, as editors and ConfigMaps do
		t.Fatal(err)
	}
}

// TestLiveTargetsFile changes TARGETS_FILE under a running replica: a new
// target is probed within an interval, an invalid file is rejected with the
// previous configuration kept, a removed target stops and leaves the status.
func TestLiveTargetsFile(t *testing.T) {
	c := cluster.New(t)
	probed := &counter{n: map[string]int{}}
	path := c.WriteTargets("targets:\n  - {name: a, type: postgres, host: 127.0.0.1}\n")
	r := c.Start("r1", map[string]string{
		"BUS_URL": "", "STORE_URL": "", "TARGETS_FILE": path,
		"PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "200ms",
	}, service.Options{Openers: upOpeners(probed)}).Run()
	eventually(t, 10*time.Second, "a is UP", func() bool { return states(t, r)["postgres/a"] == "UP" })

	writeFile(t, path, "targets:\n  - {name: a, type: postgres, host: 127.0.0.1}\n  - {name: b, type: redis, host: 127.0.0.1}\n")
	added := time.Now()
	eventually(t, 10*time.Second, "b is UP", func() bool { return states(t, r)["redis/b"] == "UP" })
	t.Logf("added target UP %v after the file changed", time.Since(added).Round(time.Millisecond))

	writeFile(t, path, "targets:\n  - {name: a, type: postgres, colour: blue}\n")
	eventually(t, 10*time.Second, "the invalid change is rejected", func() bool {
		return metricValue(t, r, "dbhealth_config_reloads_total", `result="rejected"`) == 1
	})
	before := probed.get("redis/b")
	eventually(t, 5*time.Second, "b is still probed", func() bool { return probed.get("redis/b") > before })

	writeFile(t, path, "targets:\n  - {name: b, type: redis, host: 127.0.0.1}\n")
	eventually(t, 10*time.Second, "a leaves the status", func() bool {
		_, ok := states(t, r)["postgres/a"]
		return !ok
	})
	stopped := probed.get("postgres/a")
	time.Sleep(1500 * time.Millisecond)
	if probed.get("postgres/a") != stopped {
		t.Fatal("a removed target is still probed")
	}
	var conf struct {
		Version, Source string
		Config          struct {
			Targets []struct{ Name string } `json:"targets"`
		} `json:"config"`
	}
	getJSON(t, r.URL+"/api/database/config", &conf)
	if conf.Version != "3" || conf.Source != "file:"+path || len(conf.Config.Targets) != 1 || conf.Config.Targets[0].Name != "b" {
		t.Fatalf("config view after two applied changes: %+v", conf)
	}
	if v := metricValue(t, r, "dbhealth_config_reloads_total", `result="applied"`); v != 2 {
		t.Fatalf("applied reloads %v, want 2", v)
	}
}

// TestNacosRegistrationDiscoveryAndLiveConfig runs two replicas against the
// fake Nacos: both register, discover each other, take metadata updates,
// apply targets pushed through a Nacos config entry (rejecting an invalid
// one), and the stopped replica deregisters.
func TestNacosRegistrationDiscoveryAndLiveConfig(t *testing.T) {
	c := cluster.New(t)
	fake := fakenacos.Start(t)
	probed := &counter{n: map[string]int{}}
	// The SDK's process-wide logger keeps writing into the last data dir,
	// so it cannot be a t.TempDir (removed while still written).
	dataDir := filepath.Join(os.TempDir(), "database-service-test", c.ID)
	env := func(port int) map[string]string {
		return map[string]string{
			"BUS_URL": "", "STORE_URL": "",
			"REGISTRY_ENABLED": "true", "NACOS_SERVERS": fake.Addr(), "SERVICE_IP": "127.0.0.1",
			"NACOS_CONFIG_DATA_ID": "dbsvc-targets", "DB_SERVICE_PORT": strconv.Itoa(port), "DATA_DIR": filepath.Join(dataDir, strconv.Itoa(port)),
			"PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "200ms",
		}
	}
	r1 := c.Start("r1", env(servers.FreePort(t)), service.Options{Openers: upOpeners(probed)}).Run()
	r2 := c.Start("r2", env(servers.FreePort(t)), service.Options{Openers: upOpeners(probed)}).Run()

	type regStatus struct {
		Registered bool              `json:"registered"`
		Metadata   map[string]string `json:"metadata"`
		Peers      []struct {
			Metadata map[string]string `json:"metadata"`
		} `json:"peers"`
	}
	peerOf := func(r *cluster.Replica, want string) bool {
		var s regStatus
		getJSON(t, r.URL+"/api/database/registry/status", &s)
		for _, p := range s.Peers {
			if p.Metadata["replica_id"] == want {
				return s.Registered
			}
		}
		return false
	}
	eventually(t, 20*time.Second, "r1 and r2 registered and see each other", func() bool {
		return peerOf(r1, "r2") && peerOf(r2, "r1")
	})
	if n := len(fake.Instances(c.Service, "DEFAULT_GROUP", "public")); n != 2 {
		t.Fatalf("%d instances registered, want 2", n)
	}

	code, body := postJSON(t, r1.URL+"/api/database/registry/update", `{"metadata":{"zone":"eu-1"},"weight":5}`)
	if code != http.StatusOK || !strings.Contains(body, `"zone":"eu-1"`) {
		t.Fatalf("update: %d %s", code, body)
	}
	eventually(t, 5*time.Second, "metadata in Nacos", func() bool {
		for _, in := range fake.Instances(c.Service, "DEFAULT_GROUP", "public") {
			if in.Metadata["zone"] == "eu-1" && in.Weight == 5 {
				return true
			}
		}
		return false
	})
	for _, bad := range []struct{ body, field string }{
		{`{"weight":5000}`, "weight"},
		{`{"metadata":{"replica_id":"x"}}`, "metadata.replica_id"},
		{`{"metadata":{"bad key!":"x"}}`, "metadata"},
	} {
		code, body := postJSON(t, r1.URL+"/api/database/registry/update", bad.body)
		if code != http.StatusBadRequest || !strings.Contains(body, bad.field) {
			t.Errorf("update %s: %d %s, want 400 naming %s", bad.body, code, body, bad.field)
		}
	}

	fake.PublishConfig("dbsvc-targets", "DEFAULT_GROUP", "targets:\n  - {name: pushed, type: milvus, host: 127.0.0.1}\n")
	pushed := time.Now()
	for _, r := range []*cluster.Replica{r1, r2} {
		eventually(t, 10*time.Second, "the pushed target is UP on "+r.ID, func() bool {
			return states(t, r)["milvus/pushed"] == "UP"
		})
	}
	t.Logf("pushed target UP on both replicas %v after the push", time.Since(pushed).Round(time.Millisecond))
	fake.PublishConfig("dbsvc-targets", "DEFAULT_GROUP", "targets: [{name: x, type: oracle}]\n")
	eventually(t, 10*time.Second, "the invalid push is rejected", func() bool {
		return metricValue(t, r1, "dbhealth_config_reloads_total", `result="rejected"`) == 1
	})
	before := probed.get("milvus/pushed")
	eventually(t, 5*time.Second, "the previous targets are still probed", func() bool {
		return probed.get("milvus/pushed") > before
	})

	r2.Stop()
	eventually(t, 10*time.Second, "r2 deregistered", func() bool {
		return len(fake.Instances(c.Service, "DEFAULT_GROUP", "public")) == 1
	})
	eventually(t, 10*time.Second, "r1 no longer lists r2", func() bool { return !peerOf(r1, "r2") })
}
