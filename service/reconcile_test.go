package service_test

import (
	"fmt"
	"testing"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
)

// TestRemovedTargetAlertResolvedAtStartup: a target whose alert fires is
// taken out of the configuration while no replica runs; the next start
// reconciles the read models with the configuration: the alert is
// resolved with reason "removed" and the target leaves the status and the
// overall state.
func TestRemovedTargetAlertResolvedAtStartup(t *testing.T) {
	c := cluster.New(t)
	state := func(id string) probes.State {
		if id == "redis/gone" {
			return probes.StateDown
		}
		return probes.StateUp
	}
	openers := service.Options{Openers: cluster.ScriptedOpeners(state, func(string) {})}
	env := func(targets string) map[string]string {
		return map[string]string{"BUS_URL": "", "STORE_URL": "", "TARGETS_FILE": c.WriteTargets(targets),
			"PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "500ms"}
	}
	both := "targets:\n  - {name: gone, type: redis, host: 127.0.0.1, port: 1}\n  - {name: kept, type: redis, host: 127.0.0.1, port: 2}\n"
	r := c.Start("solo", env(both), openers).Run()
	waitFor(t, "the alert of the DOWN target", waitLimit, func() (bool, string) {
		var ab alertsBody
		if err := fetchJSON(r.URL+"/api/database/alerts?state=firing", &ab); err != nil {
			return false, err.Error()
		}
		return len(ab.Alerts) == 1 && ab.Alerts[0].Name == "gone", fmt.Sprintf("%+v", ab.Alerts)
	})
	r.Stop()

	r = c.Start("solo", env("targets:\n  - {name: kept, type: redis, host: 127.0.0.1, port: 2}\n"), openers).Run()
	waitFor(t, "the removed target's alert resolved", waitLimit, func() (bool, string) {
		var ab alertsBody
		if err := fetchJSON(r.URL+"/api/database/alerts", &ab); err != nil {
			return false, err.Error()
		}
		return len(ab.Alerts) == 1 && ab.Alerts[0].State == "resolved" && ab.Alerts[0].Reason == "removed",
			fmt.Sprintf("%+v", ab.Alerts)
	})
	waitFor(t, "only the kept target in the status", waitLimit, func() (bool, string) {
		var sb statusBody
		if err := fetchJSON(r.URL+"/api/database/status", &sb); err != nil {
			return false, err.Error()
		}
		return len(sb.Databases) == 1 && sb.Databases[0].Name == "kept" && sb.Overall == "UP", fmt.Sprintf("%+v", sb)
	})

}
