package api_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// assetRoutes serve the embedded files of the documentation UIs and of the
// status page; they are not API operations and are deliberately left out of
// openapi.yaml.
var assetRoutes = []string{"GET /docs/_assets/*", "GET /redoc/_assets/*", "GET /ui/*"}

var echoParam = regexp.MustCompile(`:([A-Za-z_]+)`)

// TestRoutesMatchSpec fails when a route exists that openapi.yaml lacks, or
// the reverse.
func TestRoutesMatchSpec(t *testing.T) {
	s, err := api.New(api.Deps{}, api.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	for _, r := range s.Echo().Routes() {
		op := r.Method + " " + echoParam.ReplaceAllString(r.Path, "{$1}")
		if slices.Contains(assetRoutes, op) {
			continue
		}
		routes = append(routes, op)
	}
	var ops []string
	for path, item := range loadSpec(t).doc.Paths.Map() {
		for method := range item.Operations() {
			ops = append(ops, method+" "+path)
		}
	}
	slices.Sort(routes)
	slices.Sort(ops)
	for _, r := range routes {
		if !slices.Contains(ops, r) {
			t.Errorf("route %s is not in openapi.yaml", r)
		}
	}
	for _, o := range ops {
		if !slices.Contains(routes, o) {
			t.Errorf("openapi.yaml describes %s, which is not a route", o)
		}
	}
	if len(routes) != 34 {
		t.Errorf("%d routes: %v", len(routes), routes)
	}
}

func TestSpecIsOpenAPI31(t *testing.T) {
	doc := loadSpec(t).doc
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi: %s", doc.OpenAPI)
	}
	if ss := doc.Components.SecuritySchemes["bearerAuth"]; ss == nil || ss.Value.Scheme != "bearer" {
		t.Error("no bearer security scheme")
	}
	// Every protected operation says so.
	for _, op := range []struct{ method, path string }{
		{"POST", "/api/database/connections/test/{database_type}"},
		{"POST", "/api/database/registry/update"},
		{"GET", "/api/database/config"},
	} {
		o := doc.Paths.Find(op.path).GetOperation(op.method)
		if o.Security == nil || len(*o.Security) == 0 {
			t.Errorf("%s %s has no security requirement", op.method, op.path)
		}
	}
}

// TestSpecValidatorCatchesMismatch makes sure the response validation used
// by every test is not vacuous.
func TestSpecValidatorCatchesMismatch(t *testing.T) {
	ft := &fakeT{}
	req, _ := http.NewRequest(http.MethodGet, "http://x/api/database/status", nil)
	hdr := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"x"}}
	bad := []string{
		`{"overall":"SORT_OF","databases":[]}`,
		`{"overall":"UP"}`,
		`{"overall":"UP","databases":[{"type":"redis","name":"a","state":"UP","since":"yesterday","checked_at":null,"latency_ms":1,"details":{},"error_kind":"","error":""}]}`,
		`{"overall":"UP","databases":[{"type":"redis","name":"a","state":"UP","since":null,"checked_at":null,"latency_ms":1,"error_kind":"","error":""}]}`,
	}
	for _, b := range bad {
		ft.failed = false
		validate(ft, req, response{Status: 200, Header: hdr, Body: []byte(b)})
		if !ft.failed {
			t.Errorf("accepted %s", b)
		}
	}
	ft.failed = false
	validate(ft, req, response{Status: 418, Header: hdr, Body: []byte(`{"error":"teapot"}`)})
	if !ft.failed {
		t.Error("accepted a malformed error body")
	}
	ft.failed = false
	good := `{"overall":"UP","databases":[{"type":"redis","name":"a","state":"UP","since":null,"checked_at":"2026-11-25T10:00:00Z","latency_ms":1,"details":{},"error_kind":"","error":"","projected":true}]}`
	validate(ft, req, response{Status: 200, Header: hdr, Body: []byte(good)})
	if ft.failed {
		t.Errorf("rejected a good body: %s", ft.msg)
	}
}

// fakeT records failures of validate.
type fakeT struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.failed = true
	f.msg = format
}
func (f *fakeT) Fatalf(format string, args ...any) { f.Errorf(format, args...) }

// TestCanaryNeverLeaks walks every route, healthy and with every
// dependency failing with an error that holds the password, and checks no
// response body ever contains the password (or the API token).
func TestCanaryNeverLeaks(t *testing.T) {
	for _, failing := range []bool{false, true} {
		e := newEnv(t, withToken(canaryPassword), func(o *api.Options, _ *api.Deps) {
			o.Secrets = func() []secret.String { return []secret.String{canaryPassword} }
		})
		if failing {
			e.fakes.setStatuses(nil, errWithSecret)
			e.fakes.mu.Lock()
			e.fakes.historyErr, e.fakes.alertsErr, e.fakes.metricsErr, e.fakes.testErr = errWithSecret, errWithSecret, errWithSecret, errWithSecret
			e.fakes.ready = map[string]error{"bus": errWithSecret, "store": errWithSecret}
			e.fakes.stream.failed = errWithSecret
			e.fakes.mu.Unlock()
		}
		checked, _ := testEvents(t)
		for _, r := range e.server.Echo().Routes() {
			path := strings.ReplaceAll(r.Path, ":database_type", "postgres")
			path = strings.ReplaceAll(path, "/docs/_assets/*", "/docs/_assets/swagger-ui-bundle.js")
			path = strings.ReplaceAll(path, "/redoc/_assets/*", "/redoc/_assets/redoc.standalone.js")
			for _, withAuth := range []bool{false, true} {
				hdr := map[string]string{}
				if withAuth {
					hdr["Authorization"] = "Bearer " + canaryPassword
				}
				var body []byte
				if path == "/api/database/events" && !failing {
					body = readStreamBriefly(t, e, hdr, func() { e.fakes.stream.publish(checked) })
				} else {
					var rb io.Reader
					if r.Method == http.MethodPost {
						rb = strings.NewReader(`{"metadata":{"note":"x"}}`)
						hdr["Content-Type"] = "application/json"
					}
					body = e.do(request{method: r.Method, path: path, body: rb, header: hdr}).Body
				}
				if bytes.Contains(body, []byte(canaryPassword)) {
					t.Errorf("failing=%v %s %s leaks the password: %.300s", failing, r.Method, path, body)
				}
				for _, q := range []string{"?format=prometheus", "?name=main"} {
					if r.Method == http.MethodGet && (strings.Contains(path, "/metrics") || strings.Contains(path, "/history/")) {
						if b := e.get(path + q).Body; bytes.Contains(b, []byte(canaryPassword)) {
							t.Errorf("%s%s leaks the password", path, q)
						}
					}
				}
			}
		}
		logs := e.logs.String()
		if strings.Contains(logs, canaryPassword) {
			t.Errorf("failing=%v: the log holds the password", failing)
		}
		if failing && !strings.Contains(logs, "connection refused") {
			t.Error("the causes of the failures are not logged")
		}
	}
}

// readStreamBriefly reads the event stream until one event came.
func readStreamBriefly(t *testing.T, e *env, hdr map[string]string, publish func()) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+"/api/database/events", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	wait.Eventually(t, 10*time.Second, "subscription", wait.Bool(func() bool { return e.fakes.stream.active() > 0 }))
	publish()
	var buf bytes.Buffer
	chunk := make([]byte, 4096)
	for !bytes.Contains(buf.Bytes(), []byte("data: ")) {
		n, err := res.Body.Read(chunk)
		buf.Write(chunk[:n])
		if err != nil {
			break
		}
	}
	cancel()
	wait.Eventually(t, 10*time.Second, "unsubscribe", wait.Bool(func() bool { return e.fakes.stream.active() == 0 }))
	return buf.Bytes()
}
