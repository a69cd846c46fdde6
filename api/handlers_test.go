package api_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

func TestLiveness(t *testing.T) {
	e := newEnv(t)
	res := e.get("/health")
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	var body api.LivenessResponse
	mustDecode(t, res.Body, &body)
	if body.Status != "UP" || body.Checks["bus"].Status != "UP" || body.Checks["store"].Status != "UP" ||
		body.ReplicaID != "replica-a" || body.Version != "1.2.3" {
		t.Errorf("body = %+v", body)
	}

	for _, dep := range []string{"bus", "store"} {
		e.fakes.mu.Lock()
		e.fakes.ready = map[string]error{"bus": nil, "store": nil}
		e.fakes.ready[dep] = errWithSecret
		e.fakes.mu.Unlock()
		// Liveness stays 200 and reports; readiness answers 503.
		res = e.get("/health")
		if res.Status != http.StatusOK {
			t.Fatalf("%s down: /health status %d, want 200 (alive)", dep, res.Status)
		}
		mustDecode(t, res.Body, &body)
		if body.Status != "UP" || body.Ready || body.Checks[dep].Status != "DOWN" {
			t.Errorf("%s down: /health body = %s", dep, res.Body)
		}
		res = e.get("/ready")
		if res.Status != http.StatusServiceUnavailable {
			t.Fatalf("%s down: /ready status %d", dep, res.Status)
		}
		mustDecode(t, res.Body, &body)
		if body.Status != "DOWN" || body.Checks[dep].Status != "DOWN" {
			t.Errorf("%s down: body = %s", dep, res.Body)
		}
	}
}

func TestStatus(t *testing.T) {
	e := newEnv(t)
	res := e.get("/api/database/status")
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	var body api.StatusResponse
	mustDecode(t, res.Body, &body)
	if body.Overall != "DOWN" {
		t.Errorf("overall = %s, want DOWN (elasticsearch is down)", body.Overall)
	}
	var got []string
	for _, d := range body.Databases {
		got = append(got, d.Type+"/"+d.Name)
	}
	want := []string{"postgres/analytics", "postgres/main", "elasticsearch/search", "milvus/vectors", "redis/cache", "nacos/nacos", "rabbitmq/bus"}
	if !slices.Equal(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	// Raw shape: the seed's field names, details always an object, no guards.
	raw := res.JSON(t)["databases"].([]any)
	for _, d := range raw {
		m := d.(map[string]any)
		for _, k := range []string{"type", "name", "state", "since", "checked_at", "latency_ms", "details", "error_kind", "error"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%v lacks %q", m["name"], k)
			}
		}
		if _, ok := m["details"].(map[string]any); !ok {
			t.Errorf("%v: details = %v, want an object", m["name"], m["details"])
		}
		if _, ok := m["seq"]; ok {
			t.Errorf("%v: internal seq exposed", m["name"])
		}
	}
}

func TestStatusOfKind(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		kind    string
		overall string
		names   []string
	}{
		{"postgres", "DEGRADED", []string{"analytics", "main"}},
		{"elasticsearch", "DOWN", []string{"search"}},
		{"milvus", "UNKNOWN", []string{"vectors"}},
		{"redis", "UP", []string{"cache"}},
		{"REDIS", "UP", []string{"cache"}},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			res := e.get("/api/database/status/" + tt.kind)
			if res.Status != http.StatusOK {
				t.Fatalf("status %d: %s", res.Status, res.Body)
			}
			var body api.StatusResponse
			mustDecode(t, res.Body, &body)
			var names []string
			for _, d := range body.Databases {
				names = append(names, d.Name)
			}
			if body.Overall != tt.overall || !slices.Equal(names, tt.names) {
				t.Errorf("got %s %v, want %s %v", body.Overall, names, tt.overall, tt.names)
			}
		})
	}

	e.fakes.setStatuses(nil, nil)
	res := e.get("/api/database/status/nacos")
	if string(res.Body) != `{"overall":"UNKNOWN","databases":[]}` {
		t.Errorf("no targets: %s", res.Body)
	}
}

func TestUnknownDatabaseType(t *testing.T) {
	e := newEnv(t, withToken("tok"))
	for _, r := range []request{
		{path: "/api/database/status/mysql"},
		{path: "/api/database/history/mysql"},
		{method: http.MethodPost, path: "/api/database/connections/test/mysql", header: map[string]string{"Authorization": "Bearer tok"}},
	} {
		res := e.do(r)
		code, msg := res.ErrorCode(t)
		if res.Status != http.StatusNotFound || code != "unknown_database_type" {
			t.Errorf("%s: %d %s", r.path, res.Status, code)
		}
		for _, k := range events.Kinds {
			if !strings.Contains(msg, string(k)) {
				t.Errorf("%s: message %q does not list %s", r.path, msg, k)
			}
		}
	}
}

func TestOverall(t *testing.T) {
	tests := []struct {
		states []string
		want   string
	}{
		{nil, "UNKNOWN"},
		{[]string{"UNKNOWN", ""}, "UNKNOWN"},
		{[]string{"UP", "UNKNOWN"}, "UP"},
		{[]string{"UP", "DEGRADED", "UP"}, "DEGRADED"},
		{[]string{"DEGRADED", "DOWN", "UP"}, "DOWN"},
		{[]string{"bogus", "UP"}, "UP"},
	}
	for _, tt := range tests {
		e := newEnv(t)
		var ts []projections.TargetStatus
		for i, s := range tt.states {
			ts = append(ts, projections.TargetStatus{Type: "redis", Name: string(rune('a' + i)), State: s})
		}
		e.fakes.setStatuses(ts, nil)
		_, st := getJSON[api.StatusResponse](e, "/api/database/status")
		_, h := getJSON[api.HealthResponse](e, "/api/database/health")
		if st.Overall != tt.want || h.Overall != tt.want {
			t.Errorf("%v: status overall %s, health overall %s, want %s", tt.states, st.Overall, h.Overall, tt.want)
		}
	}
}

func TestHealth(t *testing.T) {
	e := newEnv(t)
	res := e.get("/api/database/health")
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	var body api.HealthResponse
	mustDecode(t, res.Body, &body)
	if body.Overall != "DOWN" || body.Targets != 7 {
		t.Errorf("overall %s targets %d", body.Overall, body.Targets)
	}
	want := []api.KindSummary{
		{Type: "postgres", State: "DEGRADED", Total: 2, Up: 1, Degraded: 1},
		{Type: "elasticsearch", State: "DOWN", Total: 1, Down: 1},
		{Type: "milvus", State: "UNKNOWN", Total: 1, Unknown: 1},
		{Type: "redis", State: "UP", Total: 1, Up: 1},
		{Type: "nacos", State: "UP", Total: 1, Up: 1},
		{Type: "rabbitmq", State: "UP", Total: 1, Up: 1},
	}
	if !slices.Equal(body.Kinds, want) {
		t.Errorf("kinds = %+v\nwant %+v", body.Kinds, want)
	}
	if body.Self.ReplicaID != "replica-a" || body.Self.UptimeSeconds != 3600 ||
		!slices.Equal(body.Self.Roles, []string{"api", "prober", "projector"}) ||
		body.Self.Dependencies["store"] != "UP" {
		t.Errorf("self = %+v", body.Self)
	}
}

func TestHealthWithoutSelf(t *testing.T) {
	e := newEnv(t, func(_ *api.Options, d *api.Deps) { d.Self = nil; d.Ready = nil })
	e.fakes.clock.Advance(90 * time.Second)
	_, body := getJSON[api.HealthResponse](e, "/api/database/health")
	if body.Self.ReplicaID != "replica-a" || body.Self.Version != "1.2.3" || body.Self.UptimeSeconds != 90 ||
		len(body.Self.Dependencies) != 0 {
		t.Errorf("self = %+v", body.Self)
	}
}

func TestConnections(t *testing.T) {
	e := newEnv(t)
	res, body := getJSON[api.ConnectionsResponse](e, "/api/database/connections")
	var got []string
	for _, c := range body.Connections {
		got = append(got, string(c.Type)+"/"+c.Name)
	}
	if want := []string{"postgres/main", "elasticsearch/search", "redis/cache", "rabbitmq/bus"}; !slices.Equal(got, want) {
		t.Errorf("connections %v, want %v", got, want)
	}
	if strings.Contains(strings.ToLower(string(res.Body)), "password") {
		t.Errorf("connections mention a password: %s", res.Body)
	}
}

func TestConnectionTest(t *testing.T) {
	e := newEnv(t)
	res := e.do(request{method: http.MethodPost, path: "/api/database/connections/test/postgres"})
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	var body api.TestResponse
	mustDecode(t, res.Body, &body)
	if body.Type != "postgres" || len(body.Results) != 2 || e.fakes.testKind != events.KindPostgres || e.fakes.testName != "" {
		t.Errorf("body %+v, tester got %s %q", body, e.fakes.testKind, e.fakes.testName)
	}
	if body.Results[0].Details == nil {
		t.Error("details must be an object")
	}

	res = e.do(request{method: http.MethodPost, path: "/api/database/connections/test/postgres?name=main"})
	mustDecode(t, res.Body, &body)
	if len(body.Results) != 1 || body.Results[0].Name != "main" || e.fakes.testName != "main" {
		t.Errorf("?name=main: %+v", body)
	}

	res = e.do(request{method: http.MethodPost, path: "/api/database/connections/test/postgres?name=nope"})
	if code, _ := res.ErrorCode(t); res.Status != http.StatusNotFound || code != "not_found" {
		t.Errorf("unknown name: %d %s", res.Status, code)
	}

	// A JSON body is accepted (and ignored).
	res = e.do(request{method: http.MethodPost, path: "/api/database/connections/test/redis",
		body: strings.NewReader(`{}`), header: map[string]string{"Content-Type": "application/json"}})
	if res.Status != http.StatusOK {
		t.Errorf("with a JSON body: %d %s", res.Status, res.Body)
	}
}

func TestConfig(t *testing.T) {
	e := newEnv(t)
	res := e.get("/api/database/config")
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	var body struct {
		AppEnv    string    `json:"app_env"`
		Version   string    `json:"version"`
		Source    string    `json:"source"`
		AppliedAt time.Time `json:"applied_at"`
		Config    struct {
			Postgres struct {
				Password string `json:"password"`
			} `json:"postgres"`
			Sources map[string]string `json:"sources"`
		} `json:"config"`
	}
	mustDecode(t, res.Body, &body)
	if body.AppEnv != "test" || body.Version != "v7" || body.Source != "file:/etc/targets.yaml" ||
		body.Config.Postgres.Password != "******" || body.Config.Sources["POSTGRES_PASSWORD"] != "env" {
		t.Errorf("config = %s", res.Body)
	}
}

func TestTargetMetricsJSON(t *testing.T) {
	e := newEnv(t)
	for _, r := range []request{
		{path: "/api/database/metrics"},
		{path: "/api/database/metrics?format=json", header: map[string]string{"Accept": "text/plain"}},
		{path: "/api/database/metrics", header: map[string]string{"Accept": "application/json, text/plain;q=0.5"}},
	} {
		res := e.do(r)
		if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%v: %d %s", r, res.Status, res.Header.Get("Content-Type"))
		}
		var body api.MetricsResponse
		mustDecode(t, res.Body, &body)
		if len(body.Targets) != 2 || body.Targets[0].Type != "postgres" || *body.Targets[1].Uptime["24h"] != 0.99 ||
			body.Targets[1].Uptime["7d"] != nil || body.Targets[1].Checks != 2880 {
			t.Errorf("%v: %s", r, res.Body)
		}
	}
}

func TestTargetMetricsPrometheus(t *testing.T) {
	e := newEnv(t)
	for _, r := range []request{
		{path: "/api/database/metrics?format=prometheus"},
		{path: "/api/database/metrics", header: map[string]string{"Accept": "text/plain"}},
	} {
		res := e.do(r)
		if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("%v: %d %s", r.header, res.Status, res.Header.Get("Content-Type"))
		}
		fams := parseProm(t, res.Body)
		checks := []struct {
			family string
			labels map[string]string
			want   float64
		}{
			{"dbhealth_target_uptime_ratio", map[string]string{"type": "redis", "name": "cache", "window": "24h"}, 0.99},
			{"dbhealth_target_uptime_ratio", map[string]string{"type": "postgres", "name": "main", "window": "1h"}, 0.5},
			{"dbhealth_target_latency_seconds", map[string]string{"type": "redis", "name": "cache", "percentile": "p99"}, 0.0023},
			{"dbhealth_target_error_ratio", map[string]string{"type": "postgres", "name": "main"}, 0.2},
			{"dbhealth_target_checks_24h", map[string]string{"type": "redis", "name": "cache"}, 2880},
		}
		for _, c := range checks {
			if got, ok := fams.Value(c.family, c.labels); !ok || got != c.want {
				t.Errorf("%s%v = %v (found %v), want %v", c.family, c.labels, got, ok, c.want)
			}
		}
		if _, ok := fams.Value("dbhealth_target_uptime_ratio", map[string]string{"type": "redis", "name": "cache", "window": "7d"}); ok {
			t.Error("a window without checks must not be exposed")
		}
	}
	res := e.do(request{path: "/api/database/metrics?format=xml"})
	if code, msg := res.ErrorCode(t); res.Status != 400 || code != "invalid_parameter" || !strings.Contains(msg, "format") {
		t.Errorf("format=xml: %d %s %s", res.Status, code, msg)
	}
}

func TestHistory(t *testing.T) {
	e := newEnv(t)
	res := e.get("/api/database/history/postgres?name=main&since=2026-11-25T09:00:00Z&until=2026-11-25T10:00:00%2B01:00&limit=2&cursor=abc")
	if res.Status != http.StatusOK {
		t.Fatalf("status %d: %s", res.Status, res.Body)
	}
	var body api.HistoryResponse
	mustDecode(t, res.Body, &body)
	if len(body.Items) != 2 || body.Next != "cursor-2" || body.Items[1].ErrorKind != "timeout" {
		t.Errorf("body = %s", res.Body)
	}
	q := e.fakes.historyQuery
	wantSince := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	if q.Type != "postgres" || q.Name != "main" || !q.Since.Equal(wantSince) || !q.Until.Equal(wantSince) ||
		q.Limit != 2 || q.Cursor != "abc" {
		t.Errorf("query = %+v", q)
	}

	e.get("/api/database/history/redis?next=xyz")
	if q := e.fakes.historyQuery; q.Cursor != "xyz" || q.Limit != 100 || q.Type != "redis" {
		t.Errorf("?next= query = %+v", q)
	}

	e.fakes.mu.Lock()
	e.fakes.history = projections.HistoryPage{}
	e.fakes.mu.Unlock()
	if res := e.get("/api/database/history/redis"); strings.TrimSpace(string(res.Body)) != `{"items":[],"next":""}` {
		t.Errorf("empty page: %s", res.Body)
	}
}

func TestAlerts(t *testing.T) {
	e := newEnv(t)
	res, body := getJSON[api.AlertsResponse](e, "/api/database/alerts")
	if len(body.Alerts) != 2 || body.Alerts[0].ID != "a2" || e.fakes.alertQuery != (projections.AlertQuery{State: "all", Limit: 100}) {
		t.Errorf("body %s query %+v", res.Body, e.fakes.alertQuery)
	}
	e.get("/api/database/alerts?state=firing&limit=5")
	if e.fakes.alertQuery != (projections.AlertQuery{State: "firing", Limit: 5}) {
		t.Errorf("query %+v", e.fakes.alertQuery)
	}
	res = e.get("/api/database/alerts?limit=1")
	mustDecode(t, res.Body, &body)
	if len(body.Alerts) != 1 {
		t.Errorf("limit=1 gave %d alerts", len(body.Alerts))
	}
	e.fakes.mu.Lock()
	e.fakes.alerts = nil
	e.fakes.mu.Unlock()
	if res := e.get("/api/database/alerts?state=resolved"); strings.TrimSpace(string(res.Body)) != `{"alerts":[]}` {
		t.Errorf("no alerts: %s", res.Body)
	}
}

func TestRegistry(t *testing.T) {
	e := newEnv(t)
	res := e.get("/api/database/registry/status")
	if m := res.JSON(t); res.Status != 200 || m["registered"] != true || m["connection_state"] != "connected" {
		t.Errorf("status: %d %s", res.Status, res.Body)
	}
	res = e.do(request{method: http.MethodPost, path: "/api/database/registry/update",
		body:   strings.NewReader(`{"metadata":{"zone":"a"},"weight":5,"enabled":true}`),
		header: map[string]string{"Content-Type": "application/json; charset=utf-8"}})
	if res.Status != 200 {
		t.Fatalf("update: %d %s", res.Status, res.Body)
	}
	u := e.fakes.registryUpdate
	if u.Metadata["zone"] != "a" || *u.Weight != 5 || !*u.Enabled {
		t.Errorf("update got %+v", u)
	}
	if m := res.JSON(t); m["weight"] != 5.0 {
		t.Errorf("answer %s", res.Body)
	}

	// An empty body is an empty update.
	res = e.do(request{method: http.MethodPost, path: "/api/database/registry/update"})
	if res.Status != 200 {
		t.Errorf("empty body: %d %s", res.Status, res.Body)
	}
}

func TestRegistryBadInput(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		body  string
		field string
	}{
		{`{"weight": 5000}`, "weight"},
		{`{"metadata": {"version": "9"}}`, "metadata.version"},
		{`{"weight": "heavy"}`, "weight"},
		{`{"enabled": 1}`, "enabled"},
		{`{"metadata": {"a": 1}}`, "metadata"},
		{`{"colour": "red"}`, "colour"},
		{`{"weight": 1`, "body"},
		{`[1,2]`, "body"},
		{`{} {}`, "body"},
	}
	for _, tt := range tests {
		res := e.do(request{method: http.MethodPost, path: "/api/database/registry/update",
			body: strings.NewReader(tt.body), header: map[string]string{"Content-Type": "application/json"}})
		code, msg := res.ErrorCode(t)
		if res.Status != http.StatusBadRequest || code != "invalid_parameter" || !strings.Contains(msg, tt.field) {
			t.Errorf("%s: %d %s %q, want 400 naming %q", tt.body, res.Status, code, msg, tt.field)
		}
	}
}

func TestDocs(t *testing.T) {
	e := newEnv(t)
	_, doc := getJSON[map[string]any](e, "/openapi.json")
	if doc["openapi"] != "3.1.0" {
		t.Errorf("openapi = %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	if _, ok := paths["/api/database/status/{database_type}"]; !ok {
		t.Errorf("paths: %v", paths)
	}
	if _, ok := paths["/api/database/history/{database_type}"].(map[string]any)["get"].(map[string]any)["responses"].(map[string]any)["200"]; !ok {
		t.Error("status codes must be JSON object keys")
	}

	pages := []struct{ page, asset string }{
		{"/docs", "/docs/_assets/swagger-ui-bundle.js"},
		{"/redoc", "/redoc/_assets/redoc.standalone.js"},
	}
	for _, p := range pages {
		res := e.get(p.page)
		html := string(res.Body)
		if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(html, p.asset) || !strings.Contains(html, "/openapi.json") {
			t.Errorf("%s: %d %s\n%.400s", p.page, res.Status, res.Header.Get("Content-Type"), html)
		}
		// Offline: nothing but this server's own paths.
		for _, ext := range []string{"http://", "https://", "//cdn", "googleapis"} {
			for _, line := range strings.Split(html, "\n") {
				if strings.Contains(line, "src=\""+ext) || strings.Contains(line, "href=\""+ext) || strings.Contains(line, "googleapis") {
					t.Errorf("%s loads %q from elsewhere: %s", p.page, ext, strings.TrimSpace(line))
				}
			}
		}
		asset := e.get(p.asset)
		if asset.Status != 200 || len(asset.Body) < 100_000 || !strings.Contains(asset.Header.Get("Content-Type"), "javascript") {
			t.Errorf("%s: %d, %d bytes, %s", p.asset, asset.Status, len(asset.Body), asset.Header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/docs/_assets/swagger-ui.min.css", "/docs/_assets/swagger-ui-standalone-preset.js"} {
		if res := e.get(p); res.Status != 200 {
			t.Errorf("%s: %d", p, res.Status)
		}
	}
	for _, p := range []string{"/docs/_assets/", "/redoc/_assets/nope.js"} {
		if res := e.get(p); res.Status != 404 {
			t.Errorf("%s: %d, want 404", p, res.Status)
		}
	}
}

func TestPrometheusEndpoint(t *testing.T) {
	e := newEnv(t)
	e.get("/api/database/status")
	e.get("/api/database/status/postgres")
	e.get("/api/database/status/mysql")
	e.get("/no/such/route")
	// Made-up methods share one label, however many there are.
	for _, m := range []string{"FOO", "BAR", "get"} {
		e.do(request{method: m, path: "/api/database/status", noValidate: true})
	}
	res := e.get("/metrics")
	if res.Status != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d %s", res.Status, res.Header.Get("Content-Type"))
	}
	fams := parseProm(t, res.Body)
	for _, c := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"route": "/api/database/status", "method": "GET", "code": "200"}, 1},
		{map[string]string{"route": "/api/database/status/:database_type", "method": "GET", "code": "200"}, 1},
		{map[string]string{"route": "/api/database/status/:database_type", "method": "GET", "code": "404"}, 1},
		{map[string]string{"route": "unmatched", "method": "GET", "code": "404"}, 1},
	} {
		if got, ok := fams.Value("dbhealth_http_requests_total", c.labels); !ok || got != c.want {
			t.Errorf("requests%v = %v (found %v), want %v", c.labels, got, ok, c.want)
		}
	}
	for _, x := range fams {
		if m := x.Labels["method"]; x.Name == "dbhealth_http_requests_total" && (m == "FOO" || m == "BAR" || m == "get") {
			t.Errorf("method label %q kept", m)
		}
	}
	if others, _ := fams.Sum("dbhealth_http_requests_total", map[string]string{"method": "other"}); others != 3 {
		t.Errorf("method=other counted %v requests, want 3", others)
	}
	if _, ok := fams.Sum("dbhealth_http_request_duration_seconds_bucket", nil); !ok { // a histogram's buckets
		t.Error("no duration histogram")
	}
	if _, ok := fams.Sum("go_goroutines", nil); !ok {
		t.Error("Go runtime collectors missing (RuntimeCollectors: true)")
	}
}

func TestRuntimeCollectorsOptional(t *testing.T) {
	e := newEnv(t, func(o *api.Options, _ *api.Deps) { o.RuntimeCollectors = false })
	fams := parseProm(t, e.get("/metrics").Body)
	if _, ok := fams.Sum("go_goroutines", nil); ok {
		t.Error("Go collectors registered although RuntimeCollectors is false")
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	res := e.do(request{path: "/api/database/status", header: map[string]string{"X-Request-ID": "client-id-42"}})
	if got := res.Header.Get("X-Request-ID"); got != "client-id-42" {
		t.Errorf("echoed id %q", got)
	}
	res = e.get("/api/database/status")
	gen := res.Header.Get("X-Request-ID")
	if len(gen) != 32 {
		t.Errorf("generated id %q", gen)
	}
	res = e.do(request{path: "/api/database/status", header: map[string]string{"X-Request-ID": "bad id\twith spaces"}})
	if got := res.Header.Get("X-Request-ID"); len(got) != 32 {
		t.Errorf("unsafe id kept: %q", got)
	}
	// The access log has the fields, with the request id.
	var found bool
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if !strings.Contains(line, `"msg":"http request"`) || !strings.Contains(line, gen) {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		found = rec["method"] == "GET" && rec["path"] == "/api/database/status" && rec["status"] == 200.0 &&
			rec["duration_ms"] != nil && rec["request_id"] == gen
	}
	if !found {
		t.Errorf("no access log line with the request id %s:\n%s", gen, e.logs.String())
	}
}

func TestRecover(t *testing.T) {
	e := newEnv(t)
	e.fakes.testPanic = true
	res := e.do(request{method: http.MethodPost, path: "/api/database/connections/test/redis"})
	if code, _ := res.ErrorCode(t); res.Status != 500 || code != "internal" {
		t.Errorf("panic: %d %s", res.Status, code)
	}
	if !strings.Contains(e.logs.String(), "tester exploded") {
		t.Error("panic not logged")
	}
	e.fakes.testPanic = false
	if res := e.do(request{method: http.MethodPost, path: "/api/database/connections/test/redis"}); res.Status != 200 {
		t.Errorf("after a panic: %d", res.Status)
	}
}

func TestNotConfigured(t *testing.T) {
	e := newEnv(t, func(_ *api.Options, d *api.Deps) { *d = api.Deps{} })
	for _, r := range []request{
		{path: "/api/database/status"},
		{path: "/api/database/status/redis"},
		{path: "/api/database/health"},
		{path: "/api/database/connections"},
		{method: http.MethodPost, path: "/api/database/connections/test/redis"},
		{path: "/api/database/config"},
		{path: "/api/database/metrics"},
		{path: "/api/database/history/redis"},
		{path: "/api/database/alerts"},
		{path: "/api/database/events"},
		{path: "/api/database/registry/status"},
		{method: http.MethodPost, path: "/api/database/registry/update"},
	} {
		res := e.do(r)
		if code, _ := res.ErrorCode(t); res.Status != 503 || code != "not_configured" {
			t.Errorf("%s %s: %d %s", r.method, r.path, res.Status, code)
		}
	}
	if res := e.get("/health"); res.Status != 200 {
		t.Errorf("/health without readiness: %d", res.Status)
	}
}

// getJSON GETs path and decodes the body into a T.
func getJSON[T any](e *env, path string) (response, T) {
	e.t.Helper()
	res := e.get(path)
	var v T
	mustDecode(e.t, res.Body, &v)
	return res, v
}

func mustDecode(t testing.TB, b []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("decode: %v: %s", err, b)
	}
}

// withToken sets API_TOKEN.
func withToken(tok string) option {
	return func(o *api.Options, _ *api.Deps) { o.APIToken = secretString(tok) }
}
