//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/servers"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// sched is the suite's schedule.
type sched struct {
	interval time.Duration
	// env is the probing configuration of every replica.
	env map[string]string
	// outage is how long a broker fault lasts: more than the detection
	// time, so the target's DOWN is decided while events cannot be
	// published (about 45 s with a 30 s interval).
	outage time.Duration
	// claimIdle is OUTBOX_CLAIM_IDLE.
	claimIdle time.Duration
}

// schedFromEnv reads E2E_INTERVAL: by default 2 s with short retries and
// thresholds of two; from 10 s up, the service's own defaults for
// everything but the interval (the closing figures use 30 s).
func schedFromEnv() sched {
	s := sched{interval: 2 * time.Second, claimIdle: 6 * time.Second}
	if v := os.Getenv("E2E_INTERVAL"); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d >= time.Second {
			s.interval = d
		}
	}
	s.env = map[string]string{"PROBE_INTERVAL": s.interval.String(), "OUTBOX_CLAIM_IDLE": s.claimIdle.String()}
	retry, failures := time.Second, 3 // the service's defaults
	if s.interval < 10*time.Second {
		retry, failures = 250*time.Millisecond, 2
		s.env["PROBE_TIMEOUT"] = "500ms"
		s.env["RETRY_INTERVAL"] = retry.String()
		s.env["FAILURE_THRESHOLD"] = "2"
		s.env["SUCCESS_THRESHOLD"] = "2"
	}
	s.outage = s.interval + time.Duration(2*failures)*retry + 8*time.Second
	return s
}

// Names of the two targets: the victim dies and comes back, the steady
// one stays up throughout.
const (
	victim = "victim"
	steady = "steady"
)

func subject(name string) string { return "redis/" + name }

// world is one scenario's system: a RabbitMQ node and a store of its own,
// the two targets, the replicas and the observer.
type world struct {
	t       *testing.T
	s       sched
	res     *result
	bin     string
	dir     string
	service string
	rabbit  *servers.Rabbit
	store   *servers.Redis
	rdb     *redis.Client // the store, directly
	targets map[string]*servers.Redis
	file    string
	procs   map[string]*proc
	obs     *observer
	// expected are the transitions each target must have, in order.
	expected map[string][]string
}

// newWorld starts the broker, the store (redis-server with storeArgs), the
// targets and the observer; replicas are started by start.
func newWorld(t *testing.T, name string, storeArgs ...string) *world {
	t.Helper()
	bin := *binFlag
	if bin == "" {
		bin = filepath.Join("..", "bin", "database-service")
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("the binary %s is missing (make build): %v", bin, err)
	}
	w := &world{
		t: t, s: schedFromEnv(), res: record(t, name), bin: bin, dir: t.TempDir(),
		service: fmt.Sprintf("e2e-%s-%d", name, time.Now().UnixNano()%1e6),
		targets: map[string]*servers.Redis{}, procs: map[string]*proc{},
	}
	w.rabbit = servers.StartRabbit(t)
	w.store = servers.StartRedisArgs(t, "", storeArgs...)
	w.rdb = redis.NewClient(&redis.Options{Addr: w.store.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = w.rdb.Close() })
	doc := "targets:\n"
	for _, n := range []string{victim, steady} {
		w.targets[n] = servers.StartRedis(t, "")
		doc += fmt.Sprintf("  - {name: %s, type: redis, host: 127.0.0.1, port: %d}\n", n, w.targets[n].Port)
	}
	w.file = filepath.Join(w.dir, "targets.yaml")
	if err := os.WriteFile(w.file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	w.obs = startObserver(t, w.rabbit.URL(), "db.health", w.service)
	return w
}

// env is the environment of replica id reaching the broker and the store
// through its proxies.
func (w *world) env(id string, p *proc) map[string]string {
	e := cluster.BaseEnv(w.service, id)
	e["DB_SERVICE_PORT"] = strconv.Itoa(p.port)
	e["BUS_URL"] = w.rabbit.Endpoint().Via(p.broker.Addr()).URL()
	e["BUS_EXCHANGE"] = "db.health"
	e["STORE_URL"] = "redis://" + p.store.Addr() + "/0"
	e["STORE_KEY_PREFIX"] = "e2e"
	e["TARGETS_FILE"] = w.file
	e["DATA_DIR"] = filepath.Join(w.dir, "data-"+id)
	for k, v := range w.s.env {
		e[k] = v
	}
	return e
}

// start starts the three replicas and waits until each is alive and the
// observer has the first transition of both targets.
func (w *world) start() {
	w.t.Helper()
	for _, id := range []string{"r1", "r2", "r3"} {
		w.startReplica(id)
	}
	w.waitChain(victim, "UP")
	w.waitChain(steady, "UP")
}

// startReplica starts (or restarts) replica id.
func (w *world) startReplica(id string) *proc {
	w.t.Helper()
	p := startProc(w, id)
	w.procs[id] = p
	wait.Eventually(w.t, 30*time.Second, id+" alive", func() (bool, string) {
		if p.Exited() {
			w.t.Fatalf("%s exited: %s", id, p.Cmd.ProcessState)
		}
		code, err := httpGet(p.url+"/health", nil)
		return code == 200, fmt.Sprint(code, err)
	})
	return p
}

// brokerLinks sets every replica's link to the broker up or down (a down
// link refuses new connections and has its connections cut).
func (w *world) brokerLinks(up bool) {
	for _, p := range w.procs {
		setLink(p.broker, up)
	}
}

// storeLinks is brokerLinks for the store.
func (w *world) storeLinks(up bool) {
	for _, p := range w.procs {
		setLink(p.store, up)
	}
}

func setLink(p *servers.Proxy, up bool) {
	p.SetRefuse(!up)
	if !up {
		p.Cut()
	}
}
