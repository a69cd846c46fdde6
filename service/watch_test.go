package service_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// TestKilledDatabaseIsDownLongBeforeTheNextInterval kills a throwaway
// redis-server under a running replica (embedded bus and store, the real
// Redis driver, a 30s interval): its watcher notices the lost connection,
// triggers a probe, retries confirm, and the API shows DOWN within a couple
// of retry intervals — not at the next interval.
func TestKilledDatabaseIsDownLongBeforeTheNextInterval(t *testing.T) {
	c := cluster.New(t)
	srv := servers.StartRedis(t, "")
	r := c.Start("r1", map[string]string{
		"BUS_URL": "", "STORE_URL": "",
		"REDIS_ENABLED": "true", "REDIS_HOST": srv.Host, "REDIS_PORT": strconv.Itoa(srv.Port),
		"PROBE_INTERVAL": "30s", "PROBE_TIMEOUT": "1s", "RETRY_INTERVAL": "200ms",
		"FAILURE_THRESHOLD": "3", "SUCCESS_THRESHOLD": "2",
	}, service.Options{}).Run()
	eventually(t, 10*time.Second, "redis UP", func() bool { return states(t, r)["redis/redis"] == "UP" })
	time.Sleep(300 * time.Millisecond) // let the watcher connect
	killed := time.Now()
	srv.Kill()
	eventually(t, 5*time.Second, "redis DOWN after the kill", func() bool { return states(t, r)["redis/redis"] == "DOWN" })
	took := time.Since(killed)
	t.Logf("kill -> DOWN in the API: %v (interval 30s, threshold 3 x retry 200ms)", took.Round(time.Millisecond))
	var alerts struct {
		Alerts []struct{ Severity, State string } `json:"alerts"`
	}
	getJSON(t, r.URL+"/api/database/alerts?state=firing", &alerts)
	if len(alerts.Alerts) != 1 || alerts.Alerts[0].Severity != "critical" {
		t.Fatalf("firing alerts: %+v", alerts.Alerts)
	}
}
