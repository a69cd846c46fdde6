package api

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server is the HTTP API of one replica.
type Server struct {
	deps    Deps
	opts    Options
	e       *echo.Echo
	status  *statusCache
	metrics *httpMetrics
	docs    *docs
	started time.Time

	scrub       func(error) string
	stopOnce    sync.Once
	stopStreams chan struct{}
	streams     *streamSlots
	tests       testLimits
}

// New builds the API over deps. It fails when the embedded OpenAPI
// document does not load or the metrics cannot be registered.
func New(deps Deps, opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newHTTPMetrics(opts.Registerer, opts.RuntimeCollectors)
	if err != nil {
		return nil, err
	}
	d, err := newDocs()
	if err != nil {
		return nil, err
	}
	s := &Server{deps: deps, opts: opts, metrics: m, docs: d, started: opts.Now(), stopStreams: make(chan struct{}),
		streams: newStreamSlots(opts.MaxStreams, opts.MaxStreamsPerClient),
		scrub:   scrubber(opts.Secrets)}
	if deps.Status != nil {
		s.status = newStatusCache(deps.Status, opts.StatusCacheTTL, opts.ReadTimeout, opts.Now)
	}
	s.e = s.routes()
	return s, nil
}

// routes builds the echo instance: middleware, error handler, every route.
func (s *Server) routes() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(s.opts.Logger, s.scrub)
	e.Use(requestIDMiddleware, observe(s.opts.Logger, s.metrics), recoverMiddleware(s.opts.Logger, s.scrub))

	auth := requireToken(s.opts.APIToken)
	var readAuth []echo.MiddlewareFunc // on reads, with AuthAll
	if s.opts.AuthAll {
		readAuth = []echo.MiddlewareFunc{auth}
	}
	metricsAuth := readAuth
	if s.opts.MetricsPublic {
		metricsAuth = nil
	}

	e.GET("/health", s.getLiveness)
	e.GET("/ready", s.getReady)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.opts.Gatherer, promhttp.HandlerOpts{})), metricsAuth...)
	e.GET(pathOpenAPI, s.docs.openAPI)
	e.GET(pathSwagger, s.docs.swagger)
	e.GET(pathSwaggerLibs+"/*", assets(s.docs.swaggerLibs))
	e.GET(pathRedoc, s.docs.redoc)
	e.GET(pathRedocLibs+"/*", assets(s.docs.redocLibs))

	ui := s.uiHandler()
	e.GET("/", ui)
	e.GET("/targets/:type/:name", ui)
	e.GET(pathAlertsPage, ui)
	e.GET("/ui/*", ui)

	if s.opts.Profiling {
		e.Any("/debug/pprof/*", echo.WrapHandler(http.HandlerFunc(pprofHandler)), auth)
	}

	// The large read bodies are gzipped for clients that accept it (the
	// status page at 1000 targets); the event stream never is.
	gz := middleware.GzipWithConfig(middleware.GzipConfig{MinLength: 2048})
	g := e.Group("/api/database", readAuth...)
	g.GET("/health", s.getHealth)
	g.GET("/status", s.getStatus, gz)
	g.GET("/status/:database_type", s.getStatusOfKind, gz)
	g.GET("/connections", s.getConnections)
	g.POST("/connections/test/:database_type", s.postTest, auth, bodyPolicy)
	g.GET("/config", s.getConfig, auth)
	g.GET("/metrics", s.getMetrics, gz)
	g.GET("/history/:database_type", s.getHistory, gz)
	g.GET("/alerts", s.getAlerts, gz)
	g.GET("/alerts/silences", s.getSilences)
	g.POST("/alerts/silences", s.postSilence, auth, bodyPolicy)
	g.DELETE("/alerts/silences/:id", s.deleteSilence, auth)
	g.GET("/alerts/notifications", s.getNotifications)
	g.POST("/alerts/notifications/:id/retry", s.postNotificationRetry, auth, bodyPolicy)
	g.GET("/alerts/receivers", s.getReceivers)
	g.POST("/alerts/receivers/:name/enable", s.postReceiverEnable, auth)
	g.POST("/alerts/:id/ack", s.postAck, auth, bodyPolicy)
	g.POST("/alerts/:id/unack", s.postUnack, auth, bodyPolicy)
	g.GET("/maintenance", s.getWindows)
	g.POST("/maintenance", s.postWindow, auth, bodyPolicy)
	g.DELETE("/maintenance/:id", s.deleteWindow, auth)
	g.GET("/events", s.getEvents)
	g.GET("/badges/:database_type/:name/:badge", s.getBadge)
	g.GET("/registry/status", s.getRegistryStatus)
	g.POST("/registry/update", s.postRegistryUpdate, auth, bodyPolicy)
	return e
}

// pathAlertsPage is the status page's alerts view.
const pathAlertsPage = "/alerts"

// uiHandler serves the status page routes with Options.UI, or 404 without.
func (s *Server) uiHandler() echo.HandlerFunc {
	if s.opts.UI == nil {
		return func(echo.Context) error { return echo.ErrNotFound }
	}
	return echo.WrapHandler(s.opts.UI)
}

// Handler is the API as an http.Handler (the echo instance). A caller that
// runs its own http.Server must call StopStreams when shutting it down,
// or open event streams hold the shutdown until its deadline.
func (s *Server) Handler() http.Handler { return s.e }

// Echo exposes the echo instance (routes, tests).
func (s *Server) Echo() *echo.Echo { return s.e }

// StopStreams ends every open event stream (and refuses none: new streams
// end at once). Safe to call more than once.
func (s *Server) StopStreams() {
	s.stopOnce.Do(func() { close(s.stopStreams) })
}

// Run listens on Options.Addr and serves until ctx is done, then shuts
// down gracefully within Options.ShutdownTimeout.
func (s *Server) Run(ctx context.Context) error {
	if s.opts.Addr == "" {
		return errors.New("api: Options.Addr is empty")
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.opts.Addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

// writeTimeout is the http.Server's WriteTimeout: the longest a
// non-streaming response may take, from the end of the request's headers
// to the last byte written. It exceeds the longest handler bound (a
// connection test, TestTimeout) with room to write the answer.
func (s *Server) writeTimeout() time.Duration {
	return max(60*time.Second, s.opts.TestTimeout+15*time.Second)
}

// Serve serves on ln until ctx is done, then shuts down gracefully within
// Options.ShutdownTimeout (event streams are ended first).
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// WriteTimeout bounds every non-streaming response; the event
		// stream and pprof's timed profiles lift it for themselves.
		WriteTimeout: s.writeTimeout(),
		IdleTimeout:  120 * time.Second,
		BaseContext:  func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	srv.RegisterOnShutdown(s.StopStreams)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.ShutdownTimeout)
	defer cancel()
	s.StopStreams()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}

// pprofHandler serves net/http/pprof's index, profiles and traces.
func pprofHandler(w http.ResponseWriter, r *http.Request) {
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "profile", "trace":
		// Timed profiles run longer than the WriteTimeout: lift it, and
		// hide it from pprof, which refuses durations beyond it.
		_ = http.NewResponseController(w).SetWriteDeadline(time.Time{})
		r = r.WithContext(context.WithValue(r.Context(), http.ServerContextKey, &http.Server{}))
	}
	switch strings.TrimPrefix(r.URL.Path, "/debug/pprof/") {
	case "cmdline":
		pprof.Cmdline(w, r)
	case "profile":
		pprof.Profile(w, r)
	case "symbol":
		pprof.Symbol(w, r)
	case "trace":
		pprof.Trace(w, r)
	default:
		pprof.Index(w, r)
	}
}
