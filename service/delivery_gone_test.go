package service_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/hooktest"
)

// receiversOf is GET /api/database/alerts/receivers as name -> disabled.
func receiversOf(t *testing.T, r *cluster.Replica) map[string]bool {
	t.Helper()
	var rs struct {
		Receivers []struct {
			Name     string
			Disabled bool
		} `json:"receivers"`
	}
	getJSON(t, r.URL+"/api/database/alerts/receivers", &rs)
	out := map[string]bool{}
	for _, x := range rs.Receivers {
		out[x.Name] = x.Disabled
	}
	return out
}

// TestDeliveryGoneSharedAcrossReplicas: two replicas over the machine's
// RabbitMQ and Redis; the receiver answers 410 once. Both replicas show
// it disabled (one saw the 410, the other took the mark from the store);
// enabling it through one replica's API enables it on both, and the next
// incident is delivered.
func TestDeliveryGoneSharedAcrossReplicas(t *testing.T) {
	c := cluster.New(t)
	ops := hooktest.New(t, hookSecret)
	ops.Answer(http.StatusGone)
	doc := "targets:\n  - {name: gone, type: redis, host: 127.0.0.1, port: 1}\n" + webhookDoc(map[string]*hooktest.Receiver{"ops": ops})
	var f flapper
	env := deliveryEnv(c, doc, nil)
	r1, r2 := c.Start("r1", env, f.openers()).Run(), c.Start("r2", env, f.openers()).Run()
	t.Cleanup(func() { dumpLog(t, r1.URL) })
	eventually(t, 20*time.Second, "gone UP", func() bool { return states(t, r1)["redis/gone"] == "UP" })

	f.down.Store(true)
	eventually(t, 20*time.Second, "ops disabled on both replicas", func() bool {
		return receiversOf(t, r1)["ops"] && receiversOf(t, r2)["ops"]
	})
	f.down.Store(false)
	time.Sleep(3 * time.Second) // the resolution is dead-lettered without a request
	if n := len(ops.Deliveries()); n != 1 {
		t.Errorf("%d requests to the gone receiver, want the one that answered 410", n)
	}

	code, out := postJSON(t, r2.URL+"/api/database/alerts/receivers/ops/enable", "")
	if code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, out)
	}
	eventually(t, 10*time.Second, "ops enabled on both replicas", func() bool {
		return !receiversOf(t, r1)["ops"] && !receiversOf(t, r2)["ops"]
	})
	f.down.Store(true)
	waitCount(t, "a firing after the enable", 1, func() int { return len(ops.Accepted()["firing"]) })
	f.down.Store(false)
	waitCount(t, "its resolution", 1, func() int { return len(ops.Accepted()["resolved"]) })
}
