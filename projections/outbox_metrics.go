package projections

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Collectors are the outbox's metrics: its length as length reads it (-1
// when the store is unreachable), its cap and the checks refused at it.
func (l *OutboxLimit) Collectors(length func(context.Context) (float64, error)) []prometheus.Collector {
	return []prometheus.Collector{
		StoreGauge("dbhealth_outbox_length", "Transitions recorded but not yet published (-1: store unreachable).", length),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "dbhealth_outbox_max_length", Help: "The outbox cap (OUTBOX_MAX_LENGTH): checks that would add a transition beyond it are refused.",
		}, func() float64 { return float64(l.Max()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dbhealth_outbox_full_total", Help: "Checks refused because they would have added a transition to the full outbox.",
		}, func() float64 { return float64(l.RefusedTotal()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "dbhealth_outbox_republished_total",
			Help: "Transitions the relay published again after a publish or acknowledgement that failed, or took over from a stopped replica: each may reach consumers twice.",
		}, func() float64 { return float64(l.RepeatedTotal()) }),
	}
}

// StoreGauge is a gauge read from the store at each scrape, within a
// second; -1 when the read fails.
func StoreGauge(name, help string, read func(context.Context) (float64, error)) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		v, err := read(ctx)
		if err != nil {
			return -1
		}
		return v
	})
}
