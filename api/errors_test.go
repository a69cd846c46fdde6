package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/projections"
)

func TestBadQueryValues(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		path  string
		param string
	}{
		{"/api/database/history/redis?limit=0", "limit"},
		{"/api/database/history/redis?limit=1001", "limit"},
		{"/api/database/history/redis?limit=ten", "limit"},
		{"/api/database/history/redis?since=yesterday", "since"},
		{"/api/database/history/redis?until=2026-13-01T00:00:00Z", "until"},
		{"/api/database/history/redis?since=2026-11-25T10:00:00Z&until=2026-11-25T09:00:00Z", "since"},
		{"/api/database/history/redis?cursor=a&next=b", "cursor"},
		{"/api/database/history/redis?name=" + strings.Repeat("n", 300), "name"},
		{"/api/database/alerts?state=open", "state"},
		{"/api/database/alerts?limit=-1", "limit"},
		{"/api/database/metrics?format=csv", "format"},
		{"/api/database/events?type=bogus", "type"},
	}
	for _, tt := range tests {
		res := e.get(tt.path)
		code, msg := res.ErrorCode(t)
		if res.Status != http.StatusBadRequest || code != "invalid_parameter" || !strings.Contains(msg, tt.param) {
			t.Errorf("%s: %d %s %q, want 400 naming %q", tt.path, res.Status, code, msg, tt.param)
		}
	}
}

func TestReaderFieldErrorIs400(t *testing.T) {
	e := newEnv(t)
	e.fakes.historyErr = &api.ParamError{Name: "cursor", Reason: "malformed"}
	res := e.get("/api/database/history/redis?cursor=zzz")
	if code, msg := res.ErrorCode(t); res.Status != 400 || code != "invalid_parameter" || !strings.Contains(msg, "cursor") {
		t.Errorf("%d %s %s", res.Status, code, msg)
	}
}

func TestProjectionQueryErrorsAre400(t *testing.T) {
	e := newEnv(t)
	e.fakes.historyErr = fmt.Errorf("decode: %w: %q", projections.ErrBadCursor, "zzz")
	res := e.get("/api/database/history/redis?cursor=zzz")
	if code, msg := res.ErrorCode(t); res.Status != 400 || code != "invalid_parameter" || !strings.Contains(msg, "cursor") {
		t.Errorf("bad cursor: %d %s %s", res.Status, code, msg)
	}
	e.fakes.alertsErr = fmt.Errorf("%w: state %q", projections.ErrBadQuery, "x")
	res = e.get("/api/database/alerts")
	if code, msg := res.ErrorCode(t); res.Status != 400 || code != "invalid_parameter" || !strings.Contains(msg, "state") {
		t.Errorf("bad query: %d %s %s", res.Status, code, msg)
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{http.MethodGet, "/nope", 404, "not_found"},
		{http.MethodGet, "/api/database/status/redis/extra", 404, "not_found"},
		{http.MethodGet, "/api/database/registry/update", 405, "method_not_allowed"},
		{http.MethodPost, "/api/database/status", 405, "method_not_allowed"},
		{http.MethodDelete, "/api/database/alerts", 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		res := e.do(request{method: tt.method, path: tt.path})
		if code, _ := res.ErrorCode(t); res.Status != tt.status || code != tt.code {
			t.Errorf("%s %s: %d %s, want %d %s", tt.method, tt.path, res.Status, code, tt.status, tt.code)
		}
	}
}

func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	big := `{"metadata":{"k":"` + strings.Repeat("x", 1<<20) + `"}}`
	// Known length: rejected up front.
	res := e.do(request{method: http.MethodPost, path: "/api/database/registry/update",
		body: strings.NewReader(big), header: map[string]string{"Content-Type": "application/json"}})
	if code, _ := res.ErrorCode(t); res.Status != 413 || code != "payload_too_large" {
		t.Errorf("Content-Length over 1 MiB: %d %s", res.Status, code)
	}
	// Unknown length (chunked): rejected while reading.
	res = e.do(request{method: http.MethodPost, path: "/api/database/registry/update",
		body: io.MultiReader(strings.NewReader(big)), header: map[string]string{"Content-Type": "application/json"}})
	if code, _ := res.ErrorCode(t); res.Status != 413 || code != "payload_too_large" {
		t.Errorf("chunked over 1 MiB: %d %s", res.Status, code)
	}
	// Exactly at the limit is fine (as far as size goes).
	ok := `{"metadata":{"k":"` + strings.Repeat("x", 1<<20-len(`{"metadata":{"k":""}}`)) + `"}}`
	res = e.do(request{method: http.MethodPost, path: "/api/database/registry/update",
		body: strings.NewReader(ok), header: map[string]string{"Content-Type": "application/json"}})
	if res.Status != 200 {
		t.Errorf("1 MiB body: %d %.200s", res.Status, res.Body)
	}
}

func TestUnsupportedMediaType(t *testing.T) {
	e := newEnv(t)
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "", "application/jsonx"} {
		for _, path := range []string{"/api/database/registry/update", "/api/database/connections/test/redis"} {
			r := request{method: http.MethodPost, path: path, body: bytes.NewReader([]byte(`{"weight":1}`)), header: map[string]string{}}
			if ct != "" {
				r.header["Content-Type"] = ct
			}
			res := e.do(r)
			if code, _ := res.ErrorCode(t); res.Status != 415 || code != "unsupported_media_type" {
				t.Errorf("%s with %q: %d %s", path, ct, res.Status, code)
			}
		}
	}
}

func TestToken(t *testing.T) {
	e := newEnv(t, withToken("s3cret-token"))
	protected := []request{
		{method: http.MethodPost, path: "/api/database/connections/test/redis"},
		{method: http.MethodPost, path: "/api/database/registry/update", body: strings.NewReader(`{}`)},
		{path: "/api/database/config"},
	}
	for _, r := range protected {
		for _, auth := range []string{"", "Bearer wrong", "Basic czNjcmV0LXRva2Vu", "Bearer", "s3cret-token", "Bearer s3cret-token-longer"} {
			rr := r
			rr.header = map[string]string{"Content-Type": "application/json"}
			if auth != "" {
				rr.header["Authorization"] = auth
			}
			if r.body != nil {
				rr.body = strings.NewReader(`{}`)
			}
			res := e.do(rr)
			code, _ := res.ErrorCode(t)
			if res.Status != 401 || code != "unauthorized" || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s %s with %q: %d %s", r.method, r.path, auth, res.Status, code)
			}
		}
		rr := r
		rr.header = map[string]string{"Authorization": "Bearer s3cret-token", "Content-Type": "application/json"}
		if r.body != nil {
			rr.body = strings.NewReader(`{}`)
		}
		if res := e.do(rr); res.Status != 200 {
			t.Errorf("%s %s with the token: %d %s", r.method, r.path, res.Status, res.Body)
		}
		rr.header["Authorization"] = "bearer  s3cret-token "
		if r.body != nil {
			rr.body = strings.NewReader(`{}`)
		}
		if res := e.do(rr); res.Status != 200 {
			t.Errorf("%s %s with lower-case scheme: %d", r.method, r.path, res.Status)
		}
	}
	// Reads other than the config stay open.
	for _, p := range []string{"/api/database/status", "/api/database/alerts", "/health", "/metrics"} {
		if res := e.get(p); res.Status != 200 {
			t.Errorf("%s: %d", p, res.Status)
		}
	}
	// Auth comes before the body checks.
	res := e.do(request{method: http.MethodPost, path: "/api/database/registry/update",
		body: strings.NewReader("x"), header: map[string]string{"Content-Type": "text/plain"}})
	if res.Status != 401 {
		t.Errorf("unauthenticated bad body: %d, want 401", res.Status)
	}
}

func TestNoTokenConfigured(t *testing.T) {
	e := newEnv(t)
	if res := e.get("/api/database/config"); res.Status != 200 {
		t.Errorf("config without API_TOKEN: %d", res.Status)
	}
	res := e.do(request{method: http.MethodPost, path: "/api/database/connections/test/redis",
		header: map[string]string{"Authorization": "Bearer anything"}})
	if res.Status != 200 {
		t.Errorf("POST without API_TOKEN: %d", res.Status)
	}
}

func TestStoreUnreachable(t *testing.T) {
	e := newEnv(t)
	e.fakes.setStatuses(nil, errWithSecret)
	e.fakes.mu.Lock()
	e.fakes.historyErr, e.fakes.alertsErr, e.fakes.metricsErr = errWithSecret, errWithSecret, context.DeadlineExceeded
	e.fakes.mu.Unlock()
	for _, p := range []string{
		"/api/database/status", "/api/database/status/redis", "/api/database/health",
		"/api/database/history/redis", "/api/database/alerts", "/api/database/metrics",
	} {
		res := e.get(p)
		if code, _ := res.ErrorCode(t); res.Status != 503 || code != "unavailable" {
			t.Errorf("%s: %d %s", p, res.Status, code)
		}
	}
	if !strings.Contains(e.logs.String(), "connection refused") {
		t.Error("the cause is not logged")
	}
}

func TestTesterErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{errors.Join(api.ErrNotFound, errors.New("no such target")), 404, "not_found"},
		{&api.ParamError{Name: "name", Reason: "bad"}, 400, "invalid_parameter"},
		{errWithSecret, 500, "internal"},
		{context.DeadlineExceeded, 503, "timeout"},
	}
	for _, tt := range tests {
		e.fakes.mu.Lock()
		e.fakes.testErr = tt.err
		e.fakes.mu.Unlock()
		res := e.do(request{method: http.MethodPost, path: "/api/database/connections/test/redis"})
		if code, _ := res.ErrorCode(t); res.Status != tt.status || code != tt.code {
			t.Errorf("%v: %d %s, want %d %s", tt.err, res.Status, code, tt.status, tt.code)
		}
	}
}
