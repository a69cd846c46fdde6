package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// httpMetrics are the API's own Prometheus collectors.
type httpMetrics struct {
	requests   *prometheus.CounterVec   // route, method, code
	duration   *prometheus.HistogramVec // route, method
	sseClients prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer, runtime bool) (*httpMetrics, error) {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_http_requests_total",
			Help: "HTTP requests answered, by route template, method and status code.",
		}, []string{"route", "method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dbhealth_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request (SSE: the stream's lifetime), by route template and method.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
		sseClients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "dbhealth_http_sse_clients",
			Help: "Clients connected to the event stream (GET /api/database/events).",
		}),
	}
	cs := []prometheus.Collector{m.requests, m.duration, m.sseClients}
	if runtime {
		cs = append(cs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("api: HTTP metrics already registered on this registerer (one API per registry)")
			}
			return nil, err
		}
	}
	return m, nil
}

// methodLabel is method when it is one of RFC 9110's and PATCH, else
// "other": a client sending made-up methods must not grow the series.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return method
	}
	return "other"
}

// observe records one answered request.
func (m *httpMetrics) observe(route, method string, code int, d time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}
