package service_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/service"
	amtest "github.com/dbhealth/database-service/testsupport/alertmanager"
	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/hooktest"
)

const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// flapper is a scripted target the test turns DOWN and UP.
type flapper struct{ down atomic.Bool }

func (f *flapper) state(string) probes.State {
	if f.down.Load() {
		return probes.StateDown
	}
	return probes.StateUp
}

func (f *flapper) openers() service.Options {
	return service.Options{Openers: cluster.ScriptedOpeners(f.state, func(string) {})}
}

// deliveryEnv is a replica probing every second, one failure or success
// to change state, no reminders, Alertmanager re-sends every second.
func deliveryEnv(c *cluster.Cluster, doc string, extra map[string]string) map[string]string {
	env := map[string]string{"TARGETS_FILE": c.WriteTargets(doc), "PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "500ms",
		"RETRY_INTERVAL": "200ms", "FAILURE_THRESHOLD": "1", "SUCCESS_THRESHOLD": "1",
		"ALERT_REPEAT_INTERVAL": "0", "ALERTMANAGER_RESEND_INTERVAL": "1s"}
	maps.Copy(env, extra)
	return env
}

// waitCount waits until count() reaches want.
func waitCount(t *testing.T, what string, want int, count func() int) {
	t.Helper()
	eventually(t, 30*time.Second, fmt.Sprintf("%s to reach %d", what, want), func() bool { return count() >= want })
}

// amCount counts the Alertmanager group notifications of status.
func amCount(sink *amtest.Sink, status string) int {
	n := 0
	for _, m := range sink.Messages() {
		if m.Status == status {
			n++
		}
	}
	return n
}

// TestDeliveryThreeReplicasFlapping: three replicas over the machine's
// RabbitMQ and Redis, a target going DOWN and UP again, three receivers.
// Each webhook receiver gets exactly one firing and one resolved per
// incident (the critical-only pager no resolved), every webhook-id once
// and every signature valid; a real Alertmanager, pushed to by all three
// replicas, forwards exactly one firing and one resolved group
// notification per incident and shows the pushed label set.
func TestDeliveryThreeReplicasFlapping(t *testing.T) {
	c := cluster.New(t)
	ops, pager := hooktest.New(t, hookSecret), hooktest.New(t, hookSecret)
	sink := amtest.NewSink(t)
	am := amtest.Start(t, amtest.Options{WebhookURL: sink.URL, GroupWait: 100 * time.Millisecond, GroupInterval: 500 * time.Millisecond})
	doc := fmt.Sprintf(`targets:
  - {name: flappy, type: redis, host: 127.0.0.1, port: 1}
receivers:
  - name: ops
    kind: webhook
    webhook: {url: %q, secrets: [%q]}
  - name: pager
    kind: webhook
    webhook: {url: %q, secrets: [%q]}
    route: {severities: [critical], send_resolved: false}
  - name: am
    kind: alertmanager
    alertmanager: {urls: [%q], resend_interval: 1s}
`, ops.URL, hookSecret, pager.URL, hookSecret, am.URL)
	var f flapper
	env := deliveryEnv(c, doc, nil)
	var rs []*cluster.Replica
	for _, id := range []string{"r1", "r2", "r3"} {
		rs = append(rs, c.Start(id, env, f.openers()).Run())
	}
	eventually(t, 20*time.Second, "flappy UP", func() bool { return states(t, rs[0])["redis/flappy"] == "UP" })

	const incidents = 3
	for i := 1; i <= incidents; i++ {
		f.down.Store(true)
		waitCount(t, "ops firing", i, func() int { return len(ops.Accepted()["firing"]) })
		waitCount(t, "alertmanager firing", i, func() int { return amCount(sink, "firing") })
		if i == 1 {
			checkPushed(t, am.URL)
		}
		f.down.Store(false)
		waitCount(t, "ops resolved", i, func() int { return len(ops.Accepted()["resolved"]) })
		waitCount(t, "alertmanager resolved", i, func() int { return amCount(sink, "resolved") })
	}
	// Retries, redeliveries and re-sends would have arrived by now.
	time.Sleep(4 * time.Second)

	seen := map[string]int{}
	for name, r := range map[string]*hooktest.Receiver{"ops": ops, "pager": pager} {
		acc := r.Accepted()
		wantResolved := incidents
		if name == "pager" {
			wantResolved = 0
		}
		if len(acc["firing"]) != incidents || len(acc["resolved"]) != wantResolved || len(r.Deliveries()) != incidents+wantResolved {
			t.Errorf("%s: %d firing, %d resolved, %d requests; want %d, %d, %d", name, len(acc["firing"]), len(acc["resolved"]),
				len(r.Deliveries()), incidents, wantResolved, incidents+wantResolved)
		}
		for _, d := range r.Deliveries() {
			seen[d.ID]++
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("webhook-id %s delivered %d times", id, n)
		}
	}
	if f, r := amCount(sink, "firing"), amCount(sink, "resolved"); f != incidents || r != incidents {
		t.Errorf("alertmanager forwarded %d firing and %d resolved group notifications, want %d each: %+v", f, r, incidents, sink.Messages())
	}
	b, _ := json.Marshal(map[string]int{"ops": len(ops.Deliveries()), "pager": len(pager.Deliveries()),
		"am_firing": amCount(sink, "firing"), "am_resolved": amCount(sink, "resolved")})
	t.Logf("%d incidents over 3 replicas: %s", incidents, b)
}

// checkPushed checks the label set of the one alert Alertmanager holds
// firing.
func checkPushed(t *testing.T, url string) {
	t.Helper()
	var pushed []struct {
		Labels map[string]string `json:"labels"`
	}
	if code := getJSON(t, url+"/api/v2/alerts", &pushed); code != http.StatusOK || len(pushed) != 1 {
		t.Fatalf("alertmanager alerts: %d %+v", code, pushed)
	}
	want := map[string]string{"alertname": "DatabaseDown", "database_type": "redis", "target": "flappy", "severity": "critical", "service": "database-service"}
	if !maps.Equal(pushed[0].Labels, want) {
		t.Errorf("alertmanager label set %v, want %v", pushed[0].Labels, want)
	}
}
