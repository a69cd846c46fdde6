package api

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/config/secret"
)

// Options configure the API.
type Options struct {
	// Addr is the listen address of Run (e.g. ":8089").
	Addr string
	// APIToken, when set, is required as "Authorization: Bearer <token>" on
	// every POST and on GET /api/database/config.
	APIToken secret.String
	// AuthAll puts the token on every /api route (the event stream too)
	// and on /metrics unless MetricsPublic; /health, /ready and the docs
	// stay open. Without APIToken it has no effect.
	AuthAll       bool
	MetricsPublic bool
	// Version and ReplicaID identify this replica in /health and in
	// /api/database/health (when Deps.Self is nil).
	Version   string
	ReplicaID string
	// Logger receives the access log and errors; nil discards.
	Logger *slog.Logger
	// Secrets, when set, lists the credentials to mask (secret.Scrub) in
	// the dependency errors the API logs. Responses never carry those
	// errors; this keeps them out of the logs too.
	Secrets func() []secret.String

	// Registerer receives the HTTP request metrics; Gatherer is what
	// GET /metrics exposes. Both nil: a private registry serves both.
	// Registerer set and Gatherer nil: Registerer must also be a Gatherer
	// (a *prometheus.Registry).
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
	// RuntimeCollectors registers the Go runtime and process collectors on
	// Registerer (leave false when the caller registers them itself).
	RuntimeCollectors bool
	// Profiling serves Go's profiles under /debug/pprof/ (DEBUG=true). With
	// an APIToken they need it, like every other diagnostic route.
	Profiling bool

	// StatusCacheTTL is how long one read of the status read model serves
	// the status and health endpoints (concurrent requests share one read
	// either way). 0 means the default, 250ms; negative disables caching
	// (every request reads the store).
	StatusCacheTTL time.Duration
	// ReadTimeout bounds every read of a read model. Default 5s.
	ReadTimeout time.Duration
	// TestTimeout bounds POST /api/database/connections/test. Default 30s.
	TestTimeout time.Duration
	// HealthTimeout bounds the readiness checks of GET /health. Default 2s.
	HealthTimeout time.Duration
	// ReadyRequires names the dependencies (of Deps.Readiness) without
	// which GET /ready answers 503; nil means all of them.
	ReadyRequires []string
	// HeartbeatInterval is the SSE keep-alive comment period. Default 15s.
	HeartbeatInterval time.Duration
	// StreamWriteTimeout bounds each write of an event stream: a client
	// that stops reading is dropped after it. Default 10s.
	StreamWriteTimeout time.Duration
	// MaxStreams caps the event streams open on this server, and
	// MaxStreamsPerClient those from one client address; past either a
	// new stream is refused with 503. Defaults 1000 and 20.
	MaxStreams          int
	MaxStreamsPerClient int
	// ShutdownTimeout bounds the graceful stop of Run. Default 10s.
	ShutdownTimeout time.Duration
	// UI serves the status page (package web): GET /, /targets/{type}/{name},
	// /alerts and the assets under /ui/. These routes are open whatever
	// API_AUTH says (the page is static; its calls to /api carry the token).
	// Nil: they answer 404.
	UI http.Handler

	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
}

// Defaults of Options.
const (
	DefaultStatusCacheTTL      = 250 * time.Millisecond
	DefaultReadTimeout         = 5 * time.Second
	DefaultTestTimeout         = 30 * time.Second
	DefaultHealthTimeout       = 2 * time.Second
	DefaultHeartbeatInterval   = 15 * time.Second
	DefaultShutdownTimeout     = 10 * time.Second
	DefaultStreamWriteTimeout  = 10 * time.Second
	DefaultMaxStreams          = 1000
	DefaultMaxStreamsPerClient = 20
)

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() (Options, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Secrets == nil {
		o.Secrets = func() []secret.String { return nil }
	}
	if o.Registerer == nil && o.Gatherer == nil {
		reg := prometheus.NewRegistry()
		o.Registerer, o.Gatherer = reg, reg
	}
	if o.Gatherer == nil {
		g, ok := o.Registerer.(prometheus.Gatherer)
		if !ok {
			return o, errors.New("api: Options.Gatherer is nil and Registerer is not a Gatherer")
		}
		o.Gatherer = g
	}
	if o.Registerer == nil {
		o.Registerer = prometheus.NewRegistry() // metrics recorded, not exposed
	}
	switch {
	case o.StatusCacheTTL == 0:
		o.StatusCacheTTL = DefaultStatusCacheTTL
	case o.StatusCacheTTL < 0:
		o.StatusCacheTTL = 0
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.TestTimeout <= 0 {
		o.TestTimeout = DefaultTestTimeout
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = DefaultHealthTimeout
	}
	if o.HeartbeatInterval <= 0 {
		o.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if o.StreamWriteTimeout <= 0 {
		o.StreamWriteTimeout = DefaultStreamWriteTimeout
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.MaxStreamsPerClient <= 0 {
		o.MaxStreamsPerClient = DefaultMaxStreamsPerClient
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o, nil
}
