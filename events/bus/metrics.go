package bus

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bus's Prometheus collectors.
type metrics struct {
	published     *prometheus.CounterVec   // type
	publishFailed *prometheus.CounterVec   // type
	dropped       *prometheus.CounterVec   // type, reason
	consumed      *prometheus.CounterVec   // group, type
	failed        *prometheus.CounterVec   // group, outcome
	duration      *prometheus.HistogramVec // group
	reconnects    *prometheus.CounterVec   // connection
}

// Drop reasons of dbhealth_bus_events_dropped_total.
const (
	dropBufferFull    = "buffer_full"
	dropPublishFailed = "publish_failed"
	dropClosed        = "closed"
)

func newMetrics(reg prometheus.Registerer, buffered func() float64) *metrics {
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_bus_events_published_total",
			Help: "Events the broker confirmed (or the embedded bus accepted), by event type.",
		}, []string{"type"}),
		publishFailed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_bus_events_publish_failed_total",
			Help: "Events Publish returned an error for (not confirmed in time, nacked, connection lost), by event type.",
		}, []string{"type"}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_bus_events_dropped_total",
			Help: "Best-effort events (PublishAsync) dropped, by event type and reason (buffer_full, publish_failed, closed).",
		}, []string{"type", "reason"}),
		consumed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_bus_events_consumed_total",
			Help: "Events a consumer group handled successfully, by group and event type.",
		}, []string{"group", "type"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_bus_events_consume_failed_total",
			Help: "Events a consumer group failed to handle, by group and outcome (poisoned, requeued).",
		}, []string{"group", "outcome"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dbhealth_bus_handler_duration_seconds",
			Help:    "Time to handle one event including retries, by group.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"group"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dbhealth_bus_reconnects_total",
			Help: "Broker connections re-established after a drop (publish, consume), and consumer resubscription attempts (subscription).",
		}, []string{"connection"}),
	}
	if reg == nil {
		return m
	}
	m.published = register(reg, m.published)
	m.publishFailed = register(reg, m.publishFailed)
	m.dropped = register(reg, m.dropped)
	m.consumed = register(reg, m.consumed)
	m.failed = register(reg, m.failed)
	m.duration = register(reg, m.duration)
	m.reconnects = register(reg, m.reconnects)
	register(reg, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "dbhealth_bus_async_buffered",
		Help: "Events waiting in PublishAsync's buffer.",
	}, buffered))
	return m
}

// register registers c, or returns the collector already registered under
// the same description (several buses on one registry, as in tests).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}
