package service_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/hooktest"
)

// TestDeliveryWindowDeleted: on embedded defaults, an ad-hoc maintenance
// window holds an outage's notification; deleting it through the API lets
// the notification out, once. A window of the targets file cannot be
// deleted (409), an unknown one is a 404.
func TestDeliveryWindowDeleted(t *testing.T) {
	c := cluster.New(t)
	ops := hooktest.New(t, hookSecret)
	doc := `targets:
  - {name: adhoc, type: redis, host: 127.0.0.1, port: 1}
maintenance:
  - {name: nightly, cron: '0 3 * * *', duration: 1h}
` + webhookDoc(map[string]*hooktest.Receiver{"ops": ops})
	ts := &targets{down: map[string]bool{}}
	r := c.Start("solo", deliveryEnv(c, doc, map[string]string{"BUS_URL": "", "STORE_URL": ""}), ts.options()).Run()
	t.Cleanup(func() { dumpLog(t, r.URL) })
	eventually(t, 20*time.Second, "adhoc UP", func() bool { return states(t, r)["redis/adhoc"] == "UP" })

	body := fmt.Sprintf(`{"name":"upgrade","matchers":[{"name":"name","value":"adhoc"}],"starts_at":%q,"duration":"1h","created_by":"test"}`,
		time.Now().Add(-time.Second).Format(time.RFC3339Nano))
	code, out := postJSON(t, r.URL+"/api/database/maintenance", body)
	if code != http.StatusCreated {
		t.Fatalf("create window: %d %s", code, out)
	}
	var w struct{ ID string }
	if err := json.Unmarshal([]byte(out), &w); err != nil || w.ID == "" {
		t.Fatalf("window %s: %v", out, err)
	}
	ts.set("redis/adhoc", true)
	var alerts struct {
		Alerts []struct{ Maintenance string } `json:"alerts"`
	}
	eventually(t, 10*time.Second, "the alert firing in maintenance", func() bool {
		alerts.Alerts = nil
		getJSON(t, r.URL+"/api/database/alerts?state=firing", &alerts)
		return len(alerts.Alerts) == 1 && alerts.Alerts[0].Maintenance == "upgrade"
	})
	time.Sleep(3 * time.Second) // more than the hold's recheck
	if n := ofTarget(ops, "adhoc")["firing"]; n != 0 {
		t.Fatalf("%d firing notifications while in maintenance", n)
	}

	del := func(id string) int {
		t.Helper()
		res, err := call(http.MethodDelete, r.URL+"/api/database/maintenance/"+id, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Status
	}
	if code := del("config:nightly"); code != http.StatusConflict {
		t.Errorf("delete a configured window: %d, want 409", code)
	}
	deleted := time.Now()
	if code := del(w.ID); code != http.StatusNoContent {
		t.Fatalf("delete the ad-hoc window: %d, want 204", code)
	}
	if code := del(w.ID); code != http.StatusNotFound {
		t.Errorf("delete it again: %d, want 404", code)
	}
	waitCount(t, "the held firing", 1, func() int { return ofTarget(ops, "adhoc")["firing"] })
	t.Logf("held firing delivered %v after the window was deleted", time.Since(deleted).Round(time.Millisecond))
	var ws struct {
		Windows []struct{ ID, Source string } `json:"windows"`
	}
	getJSON(t, r.URL+"/api/database/maintenance", &ws)
	if len(ws.Windows) != 1 || ws.Windows[0].ID != "config:nightly" {
		t.Errorf("windows after the delete: %+v", ws.Windows)
	}
	time.Sleep(3 * time.Second)
	if n := ofTarget(ops, "adhoc")["firing"]; n != 1 {
		t.Errorf("%d firing notifications, want exactly 1", n)
	}
}
