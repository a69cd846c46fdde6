package service_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
)

// TestTruthDuringBusOutage: while RabbitMQ is unreachable the API still
// shows a target that died as DOWN within about an interval (the
// coordinator's decision, marked not projected); once the bus is back the
// outbox drains, the read models catch up (projected again) with one
// alert, and a downstream consumer sees the transition once.
func TestTruthDuringBusOutage(t *testing.T) {
	c := cluster.New(t)
	var down atomic.Bool
	state := func(string) probes.State {
		if down.Load() {
			return probes.StateDown
		}
		return probes.StateUp
	}
	path := c.WriteTargets("targets:\n  - {name: a, type: redis, host: 127.0.0.1, port: 1}\n")
	r := c.Start("r1", map[string]string{"TARGETS_FILE": path, "PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "500ms",
		"RETRY_INTERVAL": "200ms", "FAILURE_THRESHOLD": "2"}, service.Options{Openers: cluster.ScriptedOpeners(state, func(string) {})}).Run()
	obs := c.Observe("db.health.#")
	status := func() (statusItem, bool, error) {
		var sb struct {
			Databases []struct {
				statusItem
				Projected bool `json:"projected"`
			} `json:"databases"`
		}
		if err := fetchJSON(r.URL+"/api/database/status", &sb); err != nil {
			return statusItem{}, false, err
		}
		if len(sb.Databases) != 1 {
			return statusItem{}, false, fmt.Errorf("%d targets", len(sb.Databases))
		}
		return sb.Databases[0].statusItem, sb.Databases[0].Projected, nil
	}
	waitFor(t, "UP, projected", waitLimit, func() (bool, string) {
		it, projected, err := status()
		return err == nil && it.State == "UP" && projected, fmt.Sprint(it.State, projected, err)
	})
	r.Rabbit.SetRefuse(true)
	r.Rabbit.Cut()
	down.Store(true)
	cut := time.Now()
	waitFor(t, "DOWN shown while the bus is down", waitLimit, func() (bool, string) {
		it, projected, err := status()
		return err == nil && it.State == "DOWN" && !projected, fmt.Sprint(it.State, projected, err)
	})
	shown := time.Since(cut)
	t.Logf("DOWN shown %v after the bus went down and the target died", shown.Round(time.Millisecond))
	if shown > 5*time.Second {
		t.Errorf("DOWN shown after %v, want within a few intervals", shown)
	}
	time.Sleep(2 * time.Second)
	r.Rabbit.SetRefuse(false)
	waitFor(t, "DOWN projected after the bus returned", waitLimit, func() (bool, string) {
		it, projected, err := status()
		return err == nil && it.State == "DOWN" && projected, fmt.Sprint(it.State, projected, err)
	})
	waitFor(t, "one firing alert", waitLimit, func() (bool, string) {
		var ab alertsBody
		if err := fetchJSON(r.URL+"/api/database/alerts", &ab); err != nil {
			return false, err.Error()
		}
		return len(ab.Alerts) == 1 && ab.Alerts[0].State == "firing", fmt.Sprintf("%+v", ab.Alerts)
	})
	waitFor(t, "the transition downstream", waitLimit, func() (bool, string) {
		_, changed, ids, _ := obs.Snapshot()
		n := 0
		for _, s := range changed {
			if s.To == "DOWN" {
				n++
				if ids[s.ID()] != 1 {
					return false, fmt.Sprintf("%s delivered %d times", s.ID(), ids[s.ID()])
				}
			}
		}
		return n == 1, fmt.Sprintf("%d DOWN transitions", n)
	})
}
