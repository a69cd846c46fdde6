package service_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/fakees"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// TestStandaloneSurvivesSigkill runs the built binary on embedded defaults
// (no BUS_URL, no STORE_URL) with a target that goes DOWN, kills it with
// SIGKILL while the alert fires, and starts it again on the same DATA_DIR:
// the alert is listed with the same id, still firing and not reopened,
// the history is kept, and the recovery resolves that same alert.
func TestStandaloneSurvivesSigkill(t *testing.T) {
	c := cluster.New(t)
	bin := cluster.BuildBinary(t)
	es := fakees.New(t)
	data := filepath.Join(c.Dir, "standalone-data")
	env := func(port int) func(string, *servers.Proxy) map[string]string {
		return func(id string, _ *servers.Proxy) map[string]string {
			return c.Env(id, "", "", e2eEnv(c, es, map[string]string{
				"BUS_URL": "", "STORE_URL": "", "DATA_DIR": data, "DB_SERVICE_PORT": strconv.Itoa(port),
			}))
		}
	}
	port := servers.FreePort(t)
	p := startProc(t, bin, "solo", env(port))
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitAPIState(t, p, url, "UP")
	es.SetStatus("red")
	waitAPIState(t, p, url, "DOWN")
	alert := waitOneAlert(t, url, "firing")
	// Let the flusher commit the checks made so far (FlushInterval 1s).
	time.Sleep(1500 * time.Millisecond)
	var before historyBody
	mustFetchJSON(t, url+"/api/database/history/"+e2eKind+"?limit=1000", &before)
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-p.Done()

	port = servers.FreePort(t)
	p = startProc(t, bin, "solo", env(port))
	url = fmt.Sprintf("http://127.0.0.1:%d", port)
	if a := waitOneAlert(t, url, "firing"); a.ID != alert.ID {
		t.Fatalf("after the restart: alert %+v, want %s firing", a, alert.ID)
	}
	var after historyBody
	mustFetchJSON(t, url+"/api/database/history/"+e2eKind+"?limit=1000", &after)
	if len(after.Items) < len(before.Items) || len(before.Items) < 3 {
		t.Fatalf("history after restart has %d items, %d before", len(after.Items), len(before.Items))
	}
	kept := map[string]bool{}
	for _, it := range after.Items {
		kept[it.CheckedAt.String()] = true
	}
	for _, it := range before.Items {
		if !kept[it.CheckedAt.String()] {
			t.Fatalf("history entry of %s lost in the restart", it.CheckedAt)
		}
	}
	// Still red after the restart: probed again, no new alert.
	time.Sleep(time.Second)
	es.SetStatus("green")
	waitAPIState(t, p, url, "UP")
	var ab alertsBody
	mustFetchJSON(t, url+"/api/database/alerts", &ab)
	if len(ab.Alerts) != 1 || ab.Alerts[0].ID != alert.ID || ab.Alerts[0].State != "resolved" {
		t.Fatalf("alerts after recovery %+v, want %s resolved and nothing else", ab.Alerts, alert.ID)
	}
}

// waitAPIState waits until the API at url shows the e2e target in state.
func waitAPIState(t *testing.T, p *proc, url, state string) {
	t.Helper()
	waitFor(t, "state "+state, waitLimit, func() (bool, string) {
		if p.Exited() {
			t.Fatalf("%s exited: %s", p.ID, p.Cmd.ProcessState)
		}
		it, _, err := targetStatus(url)
		if err != nil {
			return false, err.Error()
		}
		return it.State == state, it.State
	})
}
