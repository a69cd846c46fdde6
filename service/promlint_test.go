package service_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/fakees"
)

// TestMetricsPassPromlint runs promtool's `check metrics` rules (the
// promlint package promtool uses) on both Prometheus outputs of a replica
// that has probed a target: /metrics and /api/database/metrics?format=prometheus.
func TestMetricsPassPromlint(t *testing.T) {
	c := cluster.New(t)
	es := fakees.New(t)
	r := c.Start("lint", e2eEnv(c, es, map[string]string{"BUS_URL": "", "STORE_URL": ""}), service.Options{})
	r.Run()
	waitState(t, []string{r.URL}, "UP")
	for _, path := range []string{"/metrics", "/api/database/metrics?format=prometheus"} {
		var body string
		eventually(t, 10*time.Second, path+" with a probe's series", func() bool {
			res, err := http.Get(r.URL + path)
			if err != nil {
				return false
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			body = string(b)
			return res.StatusCode == 200 && strings.Contains(body, e2eName)
		})
		problems, err := promlint.New(strings.NewReader(body)).Lint()
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, p := range problems {
			t.Errorf("%s: %s: %s", path, p.Metric, p.Text)
		}
	}
}
