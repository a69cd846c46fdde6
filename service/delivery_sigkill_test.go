package service_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/hooktest"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// TestDeliveryReplicaKilledMidAttempt: the replica delivering a
// notification is SIGKILLed while the receiver has not answered yet (it
// holds the claim); another replica takes the notification over once the
// claim's lease runs out and delivers it, once, with the same webhook-id.
func TestDeliveryReplicaKilledMidAttempt(t *testing.T) {
	c := cluster.New(t)
	hook := hooktest.New(t, hookSecret)
	hook.Answer(hooktest.Hang)
	target := servers.StartRedis(t, "")
	path := c.WriteTargets(fmt.Sprintf("targets:\n  - {name: victim, type: redis, host: 127.0.0.1, port: %d}\n", target.Port) +
		fmt.Sprintf("receivers:\n  - {name: ops, kind: webhook, webhook: {url: %q, secrets: [%q], timeout: 10s}}\n", hook.URL, hookSecret))
	bin := cluster.BuildBinary(t)
	start := func(id string) (*cluster.Proc, string) {
		port := servers.FreePort(t)
		env := c.Env(id, cluster.RabbitMQ.Addr(), cluster.Redis.Addr(), map[string]string{
			"TARGETS_FILE": path, "DB_SERVICE_PORT": strconv.Itoa(port), "PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "500ms",
			"RETRY_INTERVAL": "200ms", "FAILURE_THRESHOLD": "1", "SUCCESS_THRESHOLD": "1", "ALERT_REPEAT_INTERVAL": "0",
			"ALERT_SEND_TIMEOUT": "10s", "ALERT_CLAIM_LEASE": "12s", "ALERT_RETRY_INTERVAL": "200ms",
		})
		return cluster.StartProc(t, bin, id, c.Dir, cluster.Environ(t, env)), fmt.Sprintf("http://127.0.0.1:%d", port)
	}
	r1, url1 := start("r1")
	eventually(t, 30*time.Second, "victim UP", func() bool {
		if r1.Exited() {
			t.Fatalf("r1 exited: %s", r1.Cmd.ProcessState)
		}
		st, _, err := targetStatusOf(url1, "redis", "victim")
		return err == nil && st == "UP"
	})
	target.Kill()
	waitCount(t, "the first attempt", 1, func() int { return len(hook.Deliveries()) })
	r2, _ := start("r2")
	time.Sleep(3 * time.Second) // r2 up and consuming
	if r2.Exited() {
		t.Fatalf("r2 exited: %s", r2.Cmd.ProcessState)
	}
	killed := time.Now()
	r1.Kill()

	waitCount(t, "the delivery by r2", 1, func() int { return len(hook.Accepted()["firing"]) })
	took := time.Since(killed)
	time.Sleep(2 * time.Second)
	ds := hook.Deliveries()
	if len(ds) != 2 || ds[0].ID != ds[1].ID || len(hook.Accepted()["firing"]) != 1 {
		t.Fatalf("requests %+v, want the hung one and one delivery, with one webhook-id", ds)
	}
	t.Logf("SIGKILL -> delivered by the other replica in %v (lease 12s)", took.Round(100*time.Millisecond))
}

// targetStatusOf is the state of one target in GET /api/database/status.
func targetStatusOf(base, kind, name string) (string, bool, error) {
	var sb statusBody
	if err := fetchJSON(base+"/api/database/status", &sb); err != nil {
		return "", false, err
	}
	for _, d := range sb.Databases {
		if d.Type == kind && d.Name == name {
			return d.State, true, nil
		}
	}
	return "", false, nil
}
