package api

import (
	"mime"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dbhealth/database-service/projections"
)

// MetricsResponse is the JSON body of GET /api/database/metrics.
type MetricsResponse struct {
	Targets []projections.TargetMetrics `json:"targets"`
}

// uptimeWindows are the windows of TargetMetrics.Uptime, in output order.
var uptimeWindows = []string{"1h", "24h", "7d"}

// getMetrics serves GET /api/database/metrics: JSON, or the Prometheus text
// format with ?format=prometheus or an Accept header that asks for
// text/plain rather than JSON.
func (s *Server) getMetrics(c echo.Context) error {
	prom, err := wantsPrometheus(c)
	if err != nil {
		return err
	}
	if s.deps.ReadModels == nil {
		return notConfigured("the metrics read model")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	ms, err := s.deps.ReadModels.AllMetrics(ctx)
	if err != nil {
		return unavailable("metrics", err)
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if ri, rj := kindRank(ms[i].Type), kindRank(ms[j].Type); ri != rj {
			return ri < rj
		}
		return ms[i].Name < ms[j].Name
	})
	if !prom {
		if ms == nil {
			ms = []projections.TargetMetrics{}
		}
		for i := range ms {
			if ms[i].Uptime == nil {
				ms[i].Uptime = map[string]*float64{}
			}
		}
		return c.JSON(http.StatusOK, MetricsResponse{Targets: ms})
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(targetMetricsCollector(ms)); err != nil {
		return err
	}
	// The text format, whatever else the client accepts.
	req := c.Request().Clone(c.Request().Context())
	req.Header.Set(echo.HeaderAccept, "text/plain")
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(c.Response(), req)
	return nil
}

// wantsPrometheus decides the format of the metrics endpoint.
func wantsPrometheus(c echo.Context) (bool, error) {
	switch c.QueryParam("format") {
	case "prometheus", "text":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, paramErr("format", "must be json or prometheus")
	}
	var text, json bool
	for _, part := range strings.Split(c.Request().Header.Get(echo.HeaderAccept), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case "text/plain", "application/openmetrics-text":
			text = true
		case "application/json":
			json = true
		}
	}
	return text && !json, nil
}

// targetMetricsCollector exposes the rollups as gauges.
type targetMetricsCollector []projections.TargetMetrics

var (
	descUptime = prometheus.NewDesc("dbhealth_target_uptime_ratio",
		"Ratio of UP checks over the window (1h, 24h, 7d).", []string{"type", "name", "window"}, nil)
	descLatency = prometheus.NewDesc("dbhealth_target_latency_seconds",
		"Check latency percentile over the last 24h, in seconds (the JSON form gives milliseconds).", []string{"type", "name", "percentile"}, nil)
	descErrorRate = prometheus.NewDesc("dbhealth_target_error_ratio",
		"Ratio of checks with an error over the last 24h.", []string{"type", "name"}, nil)
	descChecks = prometheus.NewDesc("dbhealth_target_checks_24h",
		"Number of checks over the last 24h.", []string{"type", "name"}, nil)
)

// Describe implements prometheus.Collector.
func (targetMetricsCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descUptime
	ch <- descLatency
	ch <- descErrorRate
	ch <- descChecks
}

// Collect implements prometheus.Collector.
func (tm targetMetricsCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range tm {
		for _, w := range uptimeWindows {
			if v := m.Uptime[w]; v != nil {
				ch <- prometheus.MustNewConstMetric(descUptime, prometheus.GaugeValue, *v, m.Type, m.Name, w)
			}
		}
		ch <- prometheus.MustNewConstMetric(descLatency, prometheus.GaugeValue, m.LatencyMS.P50/1000, m.Type, m.Name, "p50")
		ch <- prometheus.MustNewConstMetric(descLatency, prometheus.GaugeValue, m.LatencyMS.P95/1000, m.Type, m.Name, "p95")
		ch <- prometheus.MustNewConstMetric(descLatency, prometheus.GaugeValue, m.LatencyMS.P99/1000, m.Type, m.Name, "p99")
		ch <- prometheus.MustNewConstMetric(descErrorRate, prometheus.GaugeValue, m.ErrorRate, m.Type, m.Name)
		ch <- prometheus.MustNewConstMetric(descChecks, prometheus.GaugeValue, float64(m.Checks), m.Type, m.Name)
	}
}
