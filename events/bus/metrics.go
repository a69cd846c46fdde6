package bus

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the bus's Prometheus collectors.
type metrics struct {
	published     *prometheus.CounterVec   // type
	publishFailed *prometheus.CounterVec   // type
	republished   *prometheus.CounterVec   // type
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
		published: counterVec("dbhealth_bus_events_published_total",
			"Events the broker confirmed (or the embedded bus accepted), by event type.", "type"),
		publishFailed: counterVec("dbhealth_bus_events_publish_failed_total",
			"Events Publish returned an error for (not confirmed in time, nacked, connection lost), by event type.", "type"),
		republished: counterVec("dbhealth_bus_events_republished_total",
			"Events sent again within one Publish after a send that failed, whose outcome was unknown (the broker may have routed it): each may reach a consumer twice, by event type.", "type"),
		dropped: counterVec("dbhealth_bus_events_dropped_total",
			"Best-effort events (PublishAsync) dropped, by event type and reason (buffer_full, publish_failed, closed).", "type", "reason"),
		consumed: counterVec("dbhealth_bus_events_consumed_total",
			"Events a consumer group handled successfully, by group and event type.", "group", "type"),
		failed: counterVec("dbhealth_bus_events_consume_failed_total",
			"Events a consumer group failed to handle, by group and outcome (poisoned, requeued).", "group", "outcome"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "dbhealth_bus_handler_duration_seconds",
			Help:    "Time to handle one event including retries, by group.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"group"}),
		reconnects: counterVec("dbhealth_bus_reconnects_total",
			"Broker connections re-established after a drop (publish, consume), and consumer resubscription attempts (subscription).", "connection"),
	}
	if reg == nil {
		return m
	}
	m.published = register(reg, m.published)
	m.publishFailed = register(reg, m.publishFailed)
	m.republished = register(reg, m.republished)
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

// counterVec is a counter with the given labels.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
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
