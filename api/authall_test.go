package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/api"
)

// API_AUTH=all: every /api route and /metrics need the token; /health,
// /ready and the docs stay open; METRICS_PUBLIC leaves /metrics open.
func TestAuthAll(t *testing.T) {
	const tok = "all-t0ken-canary"
	bearer := map[string]string{"Authorization": "Bearer " + tok}
	closed := []string{"/api/database/status", "/api/database/health", "/api/database/alerts",
		"/api/database/connections", "/api/database/metrics", "/api/database/history/redis", "/api/database/events"}
	open := []string{"/health", "/ready", "/openapi.yaml"}
	for _, metricsPublic := range []bool{false, true} {
		e := newEnv(t, withToken(tok), func(o *api.Options, _ *api.Deps) { o.AuthAll, o.MetricsPublic = true, metricsPublic })
		for _, p := range closed {
			res := e.do(request{path: p, noValidate: true})
			if code, _ := res.ErrorCode(t); res.Status != http.StatusUnauthorized || code != "unauthorized" {
				t.Errorf("%s without the token: %d %s", p, res.Status, code)
			}
		}
		for _, p := range closed[:6] { // the stream would not end
			if res := e.do(request{path: p, header: bearer}); res.Status != http.StatusOK {
				t.Errorf("%s with the token: %d %s", p, res.Status, res.Body)
			}
		}
		openStreamWith(t, e, bearer) // fails the test unless it connects
		for _, p := range open {
			if res := e.do(request{path: p, noValidate: true}); res.Status == http.StatusUnauthorized {
				t.Errorf("%s asks for the token", p)
			}
		}
		res := e.do(request{path: "/metrics", noValidate: true})
		if want := map[bool]int{false: 401, true: 200}[metricsPublic]; res.Status != want {
			t.Errorf("METRICS_PUBLIC=%v: /metrics without the token %d, want %d", metricsPublic, res.Status, want)
		}
	}

	// The default (writes) leaves the reads open.
	e := newEnv(t, withToken(tok))
	for _, p := range closed[:6] {
		if res := e.get(p); res.Status != http.StatusOK {
			t.Errorf("API_AUTH=writes: %s without the token: %d", p, res.Status)
		}
	}
}

// Connection tests are rate limited per database type: a burst of five,
// then 429 with Retry-After; another type has its own budget.
func TestConnectionTestRateLimit(t *testing.T) {
	e := newEnv(t)
	post := func(kind string) response {
		return e.do(request{method: http.MethodPost, path: "/api/database/connections/test/" + kind})
	}
	for i := range 5 {
		if res := post("postgres"); res.Status != http.StatusOK {
			t.Fatalf("test %d: %d %s", i+1, res.Status, res.Body)
		}
	}
	res := post("postgres")
	if code, _ := res.ErrorCode(t); res.Status != http.StatusTooManyRequests || code != "rate_limited" || res.Header.Get("Retry-After") != "1" {
		t.Errorf("sixth test: %d %s Retry-After %q", res.Status, code, res.Header.Get("Retry-After"))
	}
	if res := post("redis"); res.Status != http.StatusOK {
		t.Errorf("another type: %d %s", res.Status, res.Body)
	}
}

// Every write the spec describes needs the token when one is set, and
// says so in the spec (API_AUTH=writes, the default).
func TestEveryWriteNeedsToken(t *testing.T) {
	e := newEnv(t, withToken("writes-t0ken"), withAlerting(t))
	params := strings.NewReplacer("{database_type}", "redis", "{id}", "x", "{name}", "cache")
	n := 0
	for path, item := range loadSpec(t).doc.Paths.Map() {
		for method, op := range item.Operations() {
			if method == http.MethodGet {
				continue
			}
			n++
			if op.Security == nil || len(*op.Security) == 0 {
				t.Errorf("%s %s has no security requirement in the spec", method, path)
			}
			res := e.do(request{method: method, path: params.Replace(path), noValidate: true,
				body: strings.NewReader("{}"), header: map[string]string{"Content-Type": "application/json"}})
			if res.Status != http.StatusUnauthorized {
				t.Errorf("%s %s without the token: %d, want 401", method, path, res.Status)
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d writes in the spec", n)
	}
}
