package service_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/fakenacos"
)

// configView is GET /api/database/config, as far as these tests read it.
type configView struct {
	Version, Source string
	Config          struct {
		Targets []struct{ Type, Name, Host, Source string } `json:"targets"`
	} `json:"config"`
}

// nacosEnv is a replica's environment with TARGETS_FILE and a Nacos config
// entry on the fake.
func nacosEnv(c *cluster.Cluster, fake *fakenacos.Server, path, dataID string) map[string]string {
	return map[string]string{
		"BUS_URL": "", "STORE_URL": "", "TARGETS_FILE": path,
		"NACOS_SERVERS": fake.Addr(), "NACOS_CONFIG_DATA_ID": dataID,
		// The SDK's process-wide logger keeps writing into the last data
		// dir, so it cannot be a t.TempDir (removed while still written).
		"DATA_DIR":       filepath.Join(os.TempDir(), "database-service-test", c.ID),
		"PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "200ms",
	}
}

// TestLiveTargetsFileAndNacos runs a replica with both TARGETS_FILE and
// NACOS_CONFIG_DATA_ID: the targets of both are probed, a target both
// define identically is one target, a change of one source keeps the
// other's targets, and a change that defines a target of the other source
// differently is rejected with the probed set unchanged.
func TestLiveTargetsFileAndNacos(t *testing.T) {
	c := cluster.New(t)
	fake := fakenacos.Start(t)
	const id = "dbsvc-merge"
	const shared = "  - {name: shared, type: postgres, host: 127.0.0.1}\n"
	fake.PublishConfig(id, "", "targets:\n  - {name: n1, type: redis, host: 127.0.0.1}\n"+shared)
	path := c.WriteTargets("targets:\n  - {name: f1, type: postgres, host: 127.0.0.1}\n" + shared)
	probed := &counter{n: map[string]int{}}
	r := c.Start("r1", nacosEnv(c, fake, path, id), service.Options{Openers: upOpeners(probed)}).Run()

	up := func(ids ...string) func() bool {
		return func() bool {
			st := states(t, r)
			for _, id := range ids {
				if st[id] != "UP" {
					return false
				}
			}
			return true
		}
	}
	gone := func(id string) func() bool {
		return func() bool { _, ok := states(t, r)[id]; return !ok }
	}
	eventually(t, 10*time.Second, "file and nacos targets UP", up("postgres/f1", "redis/n1", "postgres/shared"))
	var conf configView
	getJSON(t, r.URL+"/api/database/config", &conf)
	want := map[string]string{
		"postgres/f1": "file:" + path, "redis/n1": "nacos:" + id, "postgres/shared": "file:" + path + " and nacos:" + id,
	}
	if conf.Source != "startup" || len(conf.Config.Targets) != len(want) {
		t.Fatalf("config view at start-up: %+v", conf)
	}
	for _, tg := range conf.Config.Targets {
		if src := want[tg.Type+"/"+tg.Name]; tg.Source != src {
			t.Errorf("source of %s/%s = %q, want %q", tg.Type, tg.Name, tg.Source, src)
		}
	}

	// A file change keeps the Nacos targets.
	writeFile(t, path, "targets:\n  - {name: f2, type: postgres, host: 127.0.0.1}\n"+shared)
	eventually(t, 10*time.Second, "f2 UP, f1 gone", func() bool { return up("postgres/f2")() && gone("postgres/f1")() })
	before := probed.get("redis/n1")
	eventually(t, 5*time.Second, "n1 still probed", func() bool { return probed.get("redis/n1") > before })

	// A Nacos change keeps the file targets.
	eventually(t, 10*time.Second, "nacos listener", func() bool { return fake.ConfigListeners(id, "") == 1 })
	fake.PublishConfig(id, "", "targets:\n  - {name: n2, type: redis, host: 127.0.0.1}\n"+shared)
	eventually(t, 10*time.Second, "n2 UP, n1 gone", func() bool { return up("redis/n2")() && gone("redis/n1")() })
	if !up("postgres/f2", "postgres/shared")() {
		t.Fatalf("file targets lost by a Nacos change: %v", states(t, r))
	}

	// Conflicting changes, from either side, are rejected.
	getJSON(t, r.URL+"/api/database/config", &conf)
	version := conf.Version
	fake.PublishConfig(id, "", "targets:\n  - {name: n2, type: redis, host: 127.0.0.1}\n  - {name: shared, type: postgres, host: 127.0.0.2}\n")
	eventually(t, 10*time.Second, "the conflicting push rejected", func() bool {
		return metricValue(t, r, "dbhealth_config_reloads_total", `result="rejected"`) == 1
	})
	writeFile(t, path, "targets:\n  - {name: f2, type: postgres, host: 127.0.0.1}\n  - {name: n2, type: redis, host: 127.0.0.3}\n"+shared)
	eventually(t, 10*time.Second, "the conflicting file rejected", func() bool {
		return metricValue(t, r, "dbhealth_config_reloads_total", `result="rejected"`) == 2
	})
	getJSON(t, r.URL+"/api/database/config", &conf)
	if conf.Version != version {
		t.Fatalf("a rejected change made version %s (was %s)", conf.Version, version)
	}
	for _, tg := range conf.Config.Targets {
		if tg.Host != "127.0.0.1" {
			t.Fatalf("a rejected change reached the set: %+v", tg)
		}
	}
	before = probed.get("postgres/shared")
	eventually(t, 5*time.Second, "the set in force still probed", func() bool {
		return probed.get("postgres/shared") > before && up("postgres/f2", "redis/n2", "postgres/shared")()
	})

	// The file drops the conflict: the pending Nacos document applies too.
	writeFile(t, path, "targets:\n  - {name: f3, type: postgres, host: 127.0.0.1}\n")
	eventually(t, 10*time.Second, "f3 and the pending nacos change applied", func() bool {
		getJSON(t, r.URL+"/api/database/config", &conf)
		for _, tg := range conf.Config.Targets {
			if tg.Name == "shared" {
				return tg.Host == "127.0.0.2" && tg.Source == "nacos:"+id && up("postgres/f3")()
			}
		}
		return false
	})
	if v := metricValue(t, r, "dbhealth_config_reloads_total", `result="applied"`); v != 3 {
		t.Fatalf("applied reloads %v, want 3", v)
	}
}

// TestStartupTargetsConflict: TARGETS_FILE and the Nacos entry defining a
// target differently at start-up is a start-up error naming it.
func TestStartupTargetsConflict(t *testing.T) {
	c := cluster.New(t)
	fake := fakenacos.Start(t)
	const id = "dbsvc-clash"
	fake.PublishConfig(id, "", "targets: [{name: shared, type: postgres, host: 127.0.0.2, password: nacos-s3cret}]")
	path := c.WriteTargets("targets: [{name: shared, type: postgres, host: 127.0.0.1, password: file-s3cret}]")
	cfg := c.Load(c.Env("r1", "", "", nacosEnv(c, fake, path, id)))
	a, err := service.New(context.Background(), cfg, cluster.TestLogger(t, "r1"), service.Options{Openers: upOpeners(&counter{n: map[string]int{}})})
	if err == nil {
		a.Close()
		t.Fatal("a conflicting start-up configuration started")
	}
	if !errors.Is(err, config.ErrTargetConflict) || !strings.Contains(err.Error(), "postgres/shared is defined by file:"+path+" and by nacos:"+id) {
		t.Fatalf("start-up error %v", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("start-up error shows a password: %v", err)
	}
}
