package notify

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts the outcomes of delivery attempts.
type Metrics struct {
	total *prometheus.CounterVec
}

// NewMetrics registers dbhealth_notifications_total{receiver,outcome} and
// the dbhealth_notifications_pending gauge, read through pending (nil:
// not registered), with reg.
func NewMetrics(reg prometheus.Registerer, pending func() float64) (*Metrics, error) {
	m := &Metrics{total: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dbhealth_notifications_total",
		Help: "Notification attempts by receiver and outcome (delivered, retry, held, failed, disabled, resent, resend_failed).",
	}, []string{"receiver", "outcome"})}
	errs := []error{reg.Register(m.total)}
	if pending != nil {
		errs = append(errs, reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "dbhealth_notifications_pending",
			Help: "Notifications waiting in the notification log for an attempt.",
		}, pending)))
	}
	return m, errors.Join(errs...)
}

// Count adds one outcome of receiver. A nil Metrics counts nothing.
func (m *Metrics) Count(receiver string, outcome OutcomeKind) {
	if m == nil {
		return
	}
	m.total.WithLabelValues(receiver, string(outcome)).Inc()
}

// Pender counts the pending notifications of a log (RedisLog, LocalLog).
type Pender interface {
	Pending(ctx context.Context) (int, error)
}

// PendingFunc is a gauge function reading p with timeout per scrape (a
// gauge function gets no context: the scrape has none to give); -1 when
// the log does not answer.
func PendingFunc(p Pender, timeout time.Duration) func() float64 {
	return func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		n, err := p.Pending(ctx)
		if err != nil {
			return -1
		}
		return float64(n)
	}
}
