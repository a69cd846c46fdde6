package service_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
)

// TestStartsWithBusAndStoreDown starts a shared-mode replica while
// RabbitMQ and Redis refuse connections: it starts, /health answers 200
// (alive) and /ready 503 naming the store, and once both come back it
// connects by itself, probes and projects.
func TestStartsWithBusAndStoreDown(t *testing.T) {
	c := cluster.New(t)
	path := c.WriteTargets("targets:\n  - {name: a, type: redis, host: 127.0.0.1, port: 1}\n")
	r := c.StartBehind("r1", map[string]string{"TARGETS_FILE": path, "PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "500ms"},
		service.Options{Openers: cluster.ScriptedOpeners(func(string) probes.State { return probes.StateUp }, func(string) {})},
		func(r *cluster.Replica) { r.Rabbit.SetRefuse(true); r.Store.SetRefuse(true) })
	r.Run()
	var live struct {
		Status string `json:"status"`
		Ready  bool   `json:"ready"`
		Checks map[string]struct {
			Status string `json:"status"`
		} `json:"checks"`
	}
	waitFor(t, "the API", waitLimit, func() (bool, string) {
		res, err := call(http.MethodGet, r.URL+"/health", nil, nil)
		if err != nil {
			return false, err.Error()
		}
		return res.Status == http.StatusOK && jsonOK(res, &live) == nil, fmt.Sprint(res.Status)
	})
	if live.Status != "UP" || live.Ready || live.Checks["bus"].Status != "DOWN" || live.Checks["store"].Status != "DOWN" {
		t.Fatalf("/health with both down: %+v", live)
	}
	if res, err := call(http.MethodGet, r.URL+"/ready", nil, nil); err != nil || res.Status != http.StatusServiceUnavailable {
		t.Fatalf("/ready with both down: %v %v", res.Status, err)
	}
	r.Rabbit.SetRefuse(false)
	r.Store.SetRefuse(false)
	waitFor(t, "ready", waitLimit, func() (bool, string) {
		res, err := call(http.MethodGet, r.URL+"/ready", nil, nil)
		if err != nil {
			return false, err.Error()
		}
		return res.Status == http.StatusOK, string(res.Body)
	})
	waitFor(t, "the target UP in the API", waitLimit, func() (bool, string) {
		var sb statusBody
		if err := fetchJSON(r.URL+"/api/database/status", &sb); err != nil {
			return false, err.Error()
		}
		return len(sb.Databases) == 1 && sb.Databases[0].State == "UP", fmt.Sprintf("%+v", sb.Databases)
	})
}
