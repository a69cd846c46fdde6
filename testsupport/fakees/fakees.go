// Package fakees is an in-process Elasticsearch stand-in for tests: an
// httptest server on loopback that answers the few endpoints a health probe
// uses (GET /, HEAD /, GET /_cluster/health) the way Elasticsearch 8 does,
// with knobs to inject faults (yellow/red cluster, missing product header,
// slow answers, authentication, HTTP errors).
//
// It speaks HTTP only, so it is driven by the real go-elasticsearch client.
// Every knob is safe to call while requests are being served.
package fakees

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// ProductHeader is the response header the Elasticsearch client checks to
// make sure it talks to Elasticsearch.
const ProductHeader = "X-Elastic-Product"

// DefaultVersion is the version number GET / reports unless SetVersion
// changes it.
const DefaultVersion = "8.15.3"

// DefaultClusterName is the cluster name the fake reports.
const DefaultClusterName = "fake-es"

// Server is a fake Elasticsearch node. Create it with New.
type Server struct {
	srv  *httptest.Server
	done chan struct{}
	once sync.Once

	requests atomic.Int64

	mu  sync.Mutex
	cfg config // the knobs, guarded by mu
}

// New starts a fake Elasticsearch node on 127.0.0.1 with a green cluster
// and registers its Close with t.Cleanup.
func New(t testing.TB) *Server { return start(t, nil) }

// NewTLS is New serving https with cfg (its certificate, or httptest's
// when it has none); URL is then "https://127.0.0.1:port".
func NewTLS(t testing.TB, cfg *tls.Config) *Server {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	return start(t, cfg)
}

// start starts the node, with TLS when cfg is not nil.
func start(t testing.TB, cfg *tls.Config) *Server {
	t.Helper()
	s := &Server{
		done: make(chan struct{}),
		cfg:  config{status: "green", productHeader: true, version: DefaultVersion},
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	if cfg != nil {
		// Rejected handshakes are what TLS tests provoke: not log noise.
		s.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
		s.srv.TLS = cfg
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// URL is the base URL of the node, e.g. "http://127.0.0.1:41234".
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server, cutting short any delayed answer. It is safe to
// call more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		close(s.done)
		s.srv.CloseClientConnections()
		s.srv.Close()
	})
}

// Requests is the number of requests the server has received.
func (s *Server) Requests() int64 { return s.requests.Load() }

// SetStatus sets the cluster health status: "green", "yellow" or "red".
// The shard counts of _cluster/health follow (yellow: unassigned replicas,
// red: unassigned primaries). Any other string is served as is.
func (s *Server) SetStatus(status string) { s.set(func(k *config) { k.status = status }) }

// SetProductHeader turns the X-Elastic-Product: Elasticsearch header on
// (the default) or off.
func (s *Server) SetProductHeader(on bool) { s.set(func(k *config) { k.productHeader = on }) }

// SetDelay makes every answer wait d first (0 answers at once). A client
// that gives up, or Close, ends the wait.
func (s *Server) SetDelay(d time.Duration) { s.set(func(k *config) { k.delay = d }) }

// RequireBasicAuth makes every request need HTTP basic authentication with
// user and pass; others get 401 with Elasticsearch's security_exception
// body. An empty user turns authentication off again.
func (s *Server) RequireBasicAuth(user, pass string) {
	s.set(func(k *config) { k.user, k.pass, k.authRequired = user, pass, user != "" })
}

// FailWith makes every request answer the HTTP status code with an
// Elasticsearch error body (after authentication). 0 clears it.
func (s *Server) FailWith(httpStatus int) { s.set(func(k *config) { k.failStatus = httpStatus }) }

// SetVersion sets the version number GET / reports.
func (s *Server) SetVersion(v string) { s.set(func(k *config) { k.version = v }) }

// config holds the knobs; a request reads a consistent snapshot.
type config struct {
	status        string
	productHeader bool
	delay         time.Duration
	user, pass    string
	authRequired  bool
	failStatus    int
	version       string
}

// set changes the knobs under the lock.
func (s *Server) set(change func(k *config)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(&s.cfg)
}

// config is a snapshot of the knobs for one request.
func (s *Server) config() config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	c := s.config()
	if c.delay > 0 {
		timer := time.NewTimer(c.delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		case <-s.done:
			return
		}
	}
	if c.productHeader {
		w.Header().Set(ProductHeader, "Elasticsearch")
	}
	if c.authRequired {
		user, pass, ok := r.BasicAuth()
		if !ok || user != c.user || pass != c.pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="security", charset="UTF-8"`)
			reason := fmt.Sprintf("unable to authenticate user [%s] for REST request [%s]", user, r.URL.Path)
			if !ok {
				reason = fmt.Sprintf("missing authentication credentials for REST request [%s]", r.URL.Path)
			}
			writeError(w, r, http.StatusUnauthorized, "security_exception", reason)
			return
		}
	}
	if c.failStatus != 0 {
		writeError(w, r, c.failStatus, "fake_exception", "injected failure")
		return
	}
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		writeJSON(w, r, http.StatusOK, rootInfo(c.version))
	case r.URL.Path == "/_cluster/health" && r.Method == http.MethodGet:
		writeJSON(w, r, http.StatusOK, clusterHealth(c.status))
	default:
		writeError(w, r, http.StatusBadRequest, "illegal_argument_exception",
			fmt.Sprintf("request [%s] contains unrecognized path", r.URL.Path))
	}
}

func rootInfo(version string) map[string]any {
	return map[string]any{
		"name":         "fake-es-node-1",
		"cluster_name": DefaultClusterName,
		"cluster_uuid": "fakeclusteruuid000000",
		"version": map[string]any{
			"number":                              version,
			"build_flavor":                        "default",
			"build_type":                          "docker",
			"build_snapshot":                      false,
			"lucene_version":                      "9.11.1",
			"minimum_wire_compatibility_version":  "7.17.0",
			"minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	}
}

func clusterHealth(status string) map[string]any {
	const primaries, replicas = 5, 5
	active, activePrimaries, unassigned, percent := primaries+replicas, primaries, 0, 100.0
	switch status {
	case "yellow":
		active, unassigned, percent = primaries, replicas, 50.0
	case "red":
		active, activePrimaries, unassigned, percent = primaries-1, primaries-1, replicas+1, 40.0
	}
	return map[string]any{
		"cluster_name":                     DefaultClusterName,
		"status":                           status,
		"timed_out":                        false,
		"number_of_nodes":                  3,
		"number_of_data_nodes":             2,
		"active_primary_shards":            activePrimaries,
		"active_shards":                    active,
		"relocating_shards":                0,
		"initializing_shards":              0,
		"unassigned_shards":                unassigned,
		"delayed_unassigned_shards":        0,
		"number_of_pending_tasks":          0,
		"number_of_in_flight_fetch":        0,
		"task_max_waiting_in_queue_millis": 0,
		"active_shards_percent_as_number":  percent,
	}
}

func writeError(w http.ResponseWriter, r *http.Request, code int, typ, reason string) {
	cause := map[string]any{"type": typ, "reason": reason}
	writeJSON(w, r, code, map[string]any{
		"error":  map[string]any{"root_cause": []any{cause}, "type": typ, "reason": reason},
		"status": code,
	})
}

func writeJSON(w http.ResponseWriter, r *http.Request, code int, body any) {
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(b)
	}
}
