package main

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dbhealth/database-service/projections"
)

// newServiceMetrics registers the gauges read from the store (the outbox
// and its cap, the firing alerts) and the Go and process collectors; the
// components register their own.
func newServiceMetrics(reg prometheus.Registerer, outbox *projections.OutboxLimit, outboxLen, alertsFiring func(context.Context) (float64, error)) {
	gauge := func(name, help string, f func(context.Context) (float64, error)) prometheus.Collector {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			v, err := f(ctx)
			if err != nil {
				return -1
			}
			return v
		})
	}
	reg.MustRegister(
		gauge("dbhealth_outbox_length", "Transitions recorded but not yet published (-1: store unreachable).", outboxLen),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "dbhealth_outbox_max_length", Help: "The outbox cap (OUTBOX_MAX_LENGTH): checks that would add a transition beyond it are refused.",
		}, func() float64 { return float64(outbox.Max()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dbhealth_outbox_full_total", Help: "Checks refused because they would have added a transition to the full outbox.",
		}, func() float64 { return float64(outbox.RefusedTotal()) }),
		gauge("dbhealth_alerts_firing", "Alerts firing (-1: store unreachable).", alertsFiring),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}
