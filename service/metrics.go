package service

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/dbhealth/database-service/projections"
)

// newServiceMetrics registers the gauges read from the store (the outbox
// and its cap, the firing alerts) and the Go and process collectors; the
// components register their own.
func newServiceMetrics(reg prometheus.Registerer, outbox *projections.OutboxLimit, outboxLen, alertsFiring func(context.Context) (float64, error)) {
	reg.MustRegister(outbox.Collectors(outboxLen)...)
	reg.MustRegister(projections.StoreGauge("dbhealth_alerts_firing", "Alerts firing (-1: store unreachable).", alertsFiring),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
}
