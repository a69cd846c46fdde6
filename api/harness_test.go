package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/schemas"
	"github.com/dbhealth/database-service/testsupport/logrec"
	"github.com/dbhealth/database-service/testsupport/webtest"
)

// spec is the OpenAPI document the tests validate every response against.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

var (
	specOnce sync.Once
	specVal  *spec
	specErr  error
)

// loadSpec loads schemas/openapi.yaml (OpenAPI 3.1) once.
func loadSpec(t testing.TB) *spec {
	t.Helper()
	specOnce.Do(func() {
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromData(schemas.OpenAPI())
		if err != nil {
			specErr = err
			return
		}
		if err := doc.Validate(loader.Context); err != nil {
			specErr = err
			return
		}
		r, err := legacy.NewRouter(doc)
		if err != nil {
			specErr = err
			return
		}
		specVal = &spec{doc: doc, router: r}
	})
	if specErr != nil {
		t.Fatalf("openapi.yaml: %v", specErr)
	}
	return specVal
}

// response is one recorded answer.
type response = webtest.Response

// env is a running API over fakes.
type env struct {
	t      *testing.T
	fakes  *fakes
	server *api.Server
	http   *httptest.Server
	logs   *logrec.Buffer
	reg    *prometheus.Registry
	token  string
}

// option tweaks the API options of a test env.
type option func(*api.Options, *api.Deps)

// newEnv starts the API over fresh fakes on a loopback test server.
func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	f := newFakes()
	logs := &logrec.Buffer{}
	reg := prometheus.NewRegistry()
	o := api.Options{
		Version:           "1.2.3",
		ReplicaID:         "replica-a",
		Logger:            slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registerer:        reg,
		Gatherer:          reg,
		RuntimeCollectors: true,
		StatusCacheTTL:    -1,
		HeartbeatInterval: time.Hour,
		Now:               f.clock.Now,
	}
	d := f.deps()
	for _, fn := range opts {
		fn(&o, &d)
	}
	s, err := api.New(d, o)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.StopStreams()
		hs.Close()
	})
	return &env{t: t, fakes: f, server: s, http: hs, logs: logs, reg: reg, token: o.APIToken.Reveal()}
}

// request describes one call.
type request struct {
	method string
	path   string
	body   io.Reader
	header map[string]string
	// noValidate skips the OpenAPI check (for deliberately odd answers).
	noValidate bool
}

// do sends r and validates the response against the spec.
func (e *env) do(r request) response {
	e.t.Helper()
	if r.method == "" {
		r.method = http.MethodGet
	}
	req, err := http.NewRequest(r.method, e.http.URL+r.path, r.body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	res, err := e.http.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := response{Status: res.StatusCode, Header: res.Header, Body: body}
	if !r.noValidate {
		validate(e.t, req, out)
	}
	return out
}

// get is do for a plain GET.
func (e *env) get(path string) response {
	e.t.Helper()
	return e.do(request{path: path})
}

// validate checks a response against the OpenAPI document: routes the
// document describes with openapi3filter.ValidateResponse (undocumented
// status codes fail), any other answer must be an Error body.
func validate(t testing.TB, req *http.Request, res response) {
	t.Helper()
	s := loadSpec(t)
	if res.Header.Get(api.HeaderRequestID) == "" {
		t.Errorf("%s %s: no %s header", req.Method, req.URL.Path, api.HeaderRequestID)
	}
	vreq := req.Clone(context.Background())
	vreq.URL.Host, vreq.URL.Scheme = "", ""
	route, params, err := s.router.FindRoute(vreq)
	if err != nil {
		// Not a documented operation (unknown route, wrong method,
		// static asset): it must be an error in the one shape, or an asset.
		if strings.Contains(req.URL.Path, "/_assets/") && res.Status == http.StatusOK {
			return
		}
		validateError(t, req, res)
		return
	}
	in := &openapi3filter.RequestValidationInput{
		Request:    vreq,
		PathParams: params,
		Route:      route,
		Options:    &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	err = openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 res.Status,
		Header:                 res.Header,
		Body:                   io.NopCloser(bytes.NewReader(res.Body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if err != nil {
		t.Errorf("%s %s -> %d does not match openapi.yaml: %v\nbody: %.600s", req.Method, req.URL.RequestURI(), res.Status, err, res.Body)
	}
	if res.Status >= 400 && strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") &&
		route.Path != "/health" && route.Path != "/ready" {
		validateError(t, req, res)
	}
}

// validateError checks an error body against the Error schema.
func validateError(t testing.TB, req *http.Request, res response) {
	t.Helper()
	s := loadSpec(t)
	if res.Status < 400 {
		t.Errorf("%s %s: undocumented route answered %d", req.Method, req.URL.Path, res.Status)
		return
	}
	var v any
	if err := json.Unmarshal(res.Body, &v); err != nil {
		t.Errorf("%s %s -> %d: error body is not JSON: %s", req.Method, req.URL.Path, res.Status, res.Body)
		return
	}
	if err := s.doc.Components.Schemas["Error"].Value.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
		t.Errorf("%s %s -> %d: not an Error body: %v: %s", req.Method, req.URL.Path, res.Status, err, res.Body)
	}
}
