package service_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/hooktest"
)

// targets are scripted targets the test turns DOWN and UP by id.
type targets struct {
	mu   sync.Mutex
	down map[string]bool
}

func (ts *targets) set(id string, down bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.down[id] = down
}

func (ts *targets) options() service.Options {
	return service.Options{Openers: cluster.ScriptedOpeners(func(id string) probes.State {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		if ts.down[id] {
			return probes.StateDown
		}
		return probes.StateUp
	}, func(string) {})}
}

// webhookDoc is a receivers: section of webhook receivers by name.
func webhookDoc(hooks map[string]*hooktest.Receiver) string {
	doc := "receivers:\n"
	for name, h := range hooks {
		doc += fmt.Sprintf("  - {name: %s, kind: webhook, webhook: {url: %q, secrets: [%q], timeout: 2s}}\n", name, h.URL, hookSecret)
	}
	return doc
}

// ofTarget is the accepted deliveries about target name, by state
// ("reminder" for the reminders of a firing alert).
func ofTarget(h *hooktest.Receiver, name string) map[string]int {
	out := map[string]int{}
	for state, ds := range h.Accepted() {
		for _, d := range ds {
			if tgt, _ := d.Body["target"].(map[string]any); tgt["name"] == name {
				kind := state
				if id, _ := d.Body["id"].(string); strings.Contains(id, ":reminder:") {
					kind = "reminder"
				}
				out[kind]++
			}
		}
	}
	return out
}

// TestDeliveryRetriesAndDeadLetters: a receiver answering 503 three
// times gets the notification once, after the retries, with the same
// webhook-id each time; one answering 400 has it dead-lettered at once,
// listed by the API, and delivered when retried through the API.
func TestDeliveryRetriesAndDeadLetters(t *testing.T) {
	c := cluster.New(t)
	flaky, strict := hooktest.New(t, hookSecret), hooktest.New(t, hookSecret)
	flaky.Answer(503, 503, 503)
	strict.Answer(400)
	doc := "targets:\n  - {name: db, type: redis, host: 127.0.0.1, port: 1}\n" +
		webhookDoc(map[string]*hooktest.Receiver{"flaky": flaky, "strict": strict})
	ts := &targets{down: map[string]bool{}}
	r := c.Start("r1", deliveryEnv(c, doc, map[string]string{"ALERT_RETRY_INTERVAL": "200ms"}), ts.options()).Run()
	eventually(t, 20*time.Second, "db UP", func() bool { return states(t, r)["redis/db"] == "UP" })
	ts.set("redis/db", true)

	waitCount(t, "flaky deliveries", 1, func() int { return len(flaky.Accepted()["firing"]) })
	ds := flaky.Deliveries()
	if len(ds) != 4 || ds[0].ID != ds[3].ID || ds[3].Status != 200 {
		t.Errorf("flaky got %d requests (want 3 x 503 then 200, one webhook-id): %+v", len(ds), ds)
	}

	var failed struct {
		Notifications []struct {
			Notification struct {
				ID       string `json:"id"`
				Receiver string `json:"receiver"`
			} `json:"notification"`
			Attempts  int    `json:"attempts"`
			LastError string `json:"last_error"`
		} `json:"notifications"`
	}
	eventually(t, 10*time.Second, "the dead letter listed", func() bool {
		getJSON(t, r.URL+"/api/database/alerts/notifications?state=failed", &failed)
		return len(failed.Notifications) == 1
	})
	dl := failed.Notifications[0]
	if dl.Notification.Receiver != "strict" || dl.Attempts != 1 || !strings.Contains(dl.LastError, "400") {
		t.Errorf("dead letter %+v", dl)
	}
	if n := len(strict.Deliveries()); n != 1 {
		t.Errorf("strict got %d requests before the retry, want 1 (no retry on a 400)", n)
	}
	if code, body := postJSON(t, r.URL+"/api/database/alerts/notifications/"+url.PathEscape(dl.Notification.ID)+"/retry", ""); code != http.StatusAccepted {
		t.Fatalf("retry: %d %s", code, body)
	}
	waitCount(t, "strict deliveries", 1, func() int { return len(strict.Accepted()["firing"]) })
	if ds := strict.Deliveries(); len(ds) != 2 || ds[0].ID != ds[1].ID {
		t.Errorf("strict requests %+v", ds)
	}
	getJSON(t, r.URL+"/api/database/alerts/notifications?state=failed", &failed)
	if len(failed.Notifications) != 0 {
		t.Errorf("still dead-lettered after the retry: %+v", failed.Notifications)
	}
}

// TestDeliveryMutes: a silence created before an outage, and a
// maintenance window recurring over the test's clock, keep the outage
// from being notified at all; a silence that expires during an outage
// lets it be notified then, once; an acknowledged alert gets no
// reminders while another one does.
func TestDeliveryMutes(t *testing.T) {
	c := cluster.New(t)
	ops := hooktest.New(t, hookSecret)
	doc := `targets:
  - {name: quiet, type: redis, host: 127.0.0.1, port: 1}
  - {name: brief, type: redis, host: 127.0.0.1, port: 1}
  - {name: maint, type: redis, host: 127.0.0.1, port: 1}
  - {name: nagging, type: redis, host: 127.0.0.1, port: 1}
  - {name: acked, type: redis, host: 127.0.0.1, port: 1}
maintenance:
  - {name: always, cron: '* * * * *', duration: 2m, time_zone: Europe/Berlin, matchers: [{name: name, value: maint}]}
` + webhookDoc(map[string]*hooktest.Receiver{"ops": ops})
	ts := &targets{down: map[string]bool{}}
	r := c.Start("r1", deliveryEnv(c, doc, map[string]string{"ALERT_REPEAT_INTERVAL": "2s"}), ts.options()).Run()
	t.Cleanup(func() { dumpLog(t, r.URL) })
	eventually(t, 20*time.Second, "every target UP", func() bool {
		st := states(t, r)
		return st["redis/quiet"] == "UP" && st["redis/acked"] == "UP" && st["redis/maint"] == "UP"
	})
	silence := func(name string, ends time.Duration) {
		t.Helper()
		body := fmt.Sprintf(`{"matchers":[{"name":"name","value":%q}],"endsAt":%q,"createdBy":"test"}`, name, time.Now().Add(ends).Format(time.RFC3339Nano))
		if code, out := postJSON(t, r.URL+"/api/database/alerts/silences", body); code != http.StatusCreated {
			t.Fatalf("silence %s: %d %s", name, code, out)
		}
	}
	silence("quiet", time.Hour)
	silence("brief", 3*time.Second)
	briefSilenced := time.Now()
	for _, n := range []string{"quiet", "brief", "maint", "nagging", "acked"} {
		ts.set("redis/"+n, true)
	}
	waitCount(t, "acked firing", 1, func() int { return ofTarget(ops, "acked")["firing"] })
	var alerts struct {
		Alerts []struct {
			ID, Name    string
			SilencedBy  []string `json:"silenced_by"`
			Maintenance string   `json:"maintenance"`
		} `json:"alerts"`
	}
	eventually(t, 10*time.Second, "five firing alerts", func() bool {
		alerts.Alerts = nil // decoding into old elements would keep their marks
		getJSON(t, r.URL+"/api/database/alerts?state=firing", &alerts)
		return len(alerts.Alerts) == 5
	})
	marks := map[string]string{}
	for _, a := range alerts.Alerts {
		marks[a.Name] = fmt.Sprintf("%v %s", len(a.SilencedBy) > 0, a.Maintenance)
		if a.Name == "acked" {
			if code, out := postJSON(t, r.URL+"/api/database/alerts/"+url.PathEscape(a.ID)+"/ack", `{"by":"ann"}`); code != http.StatusOK {
				t.Fatalf("ack: %d %s", code, out)
			}
		}
	}
	if marks["quiet"] != "true " || marks["maint"] != "false always" || marks["nagging"] != "false " {
		t.Errorf("marks of the firing alerts: %v", marks)
	}
	ackedReminders := ofTarget(ops, "acked")["reminder"]

	waitCount(t, "brief firing once its silence expired", 1, func() int { return ofTarget(ops, "brief")["firing"] })
	if since := time.Since(briefSilenced); since < 3*time.Second {
		t.Errorf("brief notified %v after its silence began, before it expired", since)
	}
	waitCount(t, "a reminder of nagging", 1, func() int { return ofTarget(ops, "nagging")["reminder"] })
	time.Sleep(3 * time.Second) // another reminder interval and more
	for _, n := range []string{"quiet", "brief", "maint", "nagging", "acked"} {
		ts.set("redis/"+n, false)
	}
	waitCount(t, "brief resolved", 1, func() int { return ofTarget(ops, "brief")["resolved"] })
	waitCount(t, "nagging resolved", 1, func() int { return ofTarget(ops, "nagging")["resolved"] })
	time.Sleep(3 * time.Second)

	for name, want := range map[string]string{"quiet": "0 0", "maint": "0 0", "brief": "1 1", "acked": "1 1", "nagging": "1 1"} {
		got := ofTarget(ops, name)
		if fmt.Sprintf("%d %d", got["firing"], got["resolved"]) != want {
			t.Errorf("%s: notified %v, want firing and resolved %s", name, got, want)
		}
	}
	if n := ofTarget(ops, "acked")["reminder"]; n != ackedReminders {
		t.Errorf("the acknowledged alert got %d reminders after its ack", n-ackedReminders)
	}
	reminders := ofTarget(ops, "nagging")["reminder"]
	if reminders < 2 {
		t.Errorf("%d reminders of the unacknowledged alert in over 4 s, want 2 or more (every 2s)", reminders)
	}
	var suppressed struct {
		Notifications []any `json:"notifications"`
	}
	getJSON(t, r.URL+"/api/database/alerts/notifications?state=suppressed", &suppressed)
	if len(suppressed.Notifications) < 2 {
		t.Errorf("%d suppressed notifications, want those of quiet and maint", len(suppressed.Notifications))
	}
	t.Logf("deliveries %d, reminders of nagging %d, suppressed %d", len(ops.Deliveries()), reminders, len(suppressed.Notifications))
}

// TestDeliveryStandaloneLiveReceivers: on embedded defaults (no RabbitMQ,
// no Redis), receivers added to the targets file while the service runs
// are in force within the poll, and deliver.
func TestDeliveryStandaloneLiveReceivers(t *testing.T) {
	c := cluster.New(t)
	ops := hooktest.New(t, hookSecret)
	doc := "targets:\n  - {name: solo, type: redis, host: 127.0.0.1, port: 1}\n"
	env := deliveryEnv(c, doc, map[string]string{"BUS_URL": "", "STORE_URL": ""})
	ts := &targets{down: map[string]bool{}}
	r := c.Start("solo", env, ts.options()).Run()
	eventually(t, 20*time.Second, "solo UP", func() bool { return states(t, r)["redis/solo"] == "UP" })
	var rs struct {
		Receivers []struct{ Name, Kind string } `json:"receivers"`
	}
	if getJSON(t, r.URL+"/api/database/alerts/receivers", &rs); len(rs.Receivers) != 0 {
		t.Fatalf("receivers before the change: %+v", rs.Receivers)
	}
	cluster.WriteFileAtomic(t, env["TARGETS_FILE"], doc+webhookDoc(map[string]*hooktest.Receiver{"ops": ops}))
	eventually(t, 10*time.Second, "the new receiver in force", func() bool {
		getJSON(t, r.URL+"/api/database/alerts/receivers", &rs)
		return len(rs.Receivers) == 1 && rs.Receivers[0].Name == "ops" && rs.Receivers[0].Kind == "webhook"
	})
	ts.set("redis/solo", true)
	waitCount(t, "ops firing", 1, func() int { return ofTarget(ops, "solo")["firing"] })
	ts.set("redis/solo", false)
	waitCount(t, "ops resolved", 1, func() int { return ofTarget(ops, "solo")["resolved"] })
}

// dumpLog shows the notification log when the test failed.
func dumpLog(t *testing.T, base string) {
	if !t.Failed() {
		return
	}
	for _, st := range []string{"pending", "delivered", "failed", "suppressed"} {
		res, err := call(http.MethodGet, base+"/api/database/alerts/notifications?limit=1000&state="+st, nil, nil)
		if err == nil {
			t.Logf("notifications %s: %s", st, res.Body)
		}
	}
	if res, err := call(http.MethodGet, base+"/api/database/alerts?state=all", nil, nil); err == nil {
		t.Logf("alerts: %s", res.Body)
	}
}
