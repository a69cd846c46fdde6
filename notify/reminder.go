package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/dbhealth/database-service/projections"
)

// Reminder defaults.
const (
	// DefaultRepeatInterval is how often a still-firing alert is notified
	// again (ALERT_REPEAT_INTERVAL); 0 turns reminders off.
	DefaultRepeatInterval = 4 * time.Hour
	// DefaultReminderTick is how often the reminder ticker looks.
	DefaultReminderTick = 10 * time.Second
)

// AlertSource reads the alerts read model (projections).
type AlertSource interface {
	// FiringAlerts lists the firing alerts.
	FiringAlerts(ctx context.Context) ([]projections.Alert, error)
	// ResolvedSince lists the alerts resolved at or after since.
	ResolvedSince(ctx context.Context, since time.Time) ([]projections.Alert, error)
}

// Acker tells acknowledged alerts, which get no reminders.
type Acker interface {
	Acked(ctx context.Context, alertID string) (bool, error)
}

// ReminderID is the id of the n-th reminder (n >= 1) of the firing
// notification firingID: firingID + ":reminder:" + n. Reminder n of an
// alert is due once RepeatInterval*n has passed since the alert started;
// every replica computes the same id, so the log sends it once.
func ReminderID(firingID string, n int64) string {
	return firingID + ":reminder:" + strconv.FormatInt(n, 10)
}

// ReminderOptions tune Reminders; zero values take the defaults.
type ReminderOptions struct {
	// Owner names this replica in Alertmanager re-send leases; required.
	Owner string
	// RepeatInterval is the reminder period; negative turns reminders
	// off (0 is DefaultRepeatInterval; the service maps
	// ALERT_REPEAT_INTERVAL=0 to off).
	RepeatInterval time.Duration
	// Tick is how often alerts are looked at.
	Tick time.Duration
	// Acker skips the reminders of acknowledged alerts; nil: none is.
	Acker Acker
	// Link makes a notification's link from an alert id; nil: none.
	Link func(alertID string) string
	// Logger, Metrics and Now as for WorkerOptions.
	Logger  *slog.Logger
	Metrics *Metrics
	Now     func() time.Time
}

// Reminders is the ticker of periodic notifications: reminders of
// still-firing alerts through the worker (exactly once each across
// replicas, via the log), and the Alertmanager re-sends (see resend.go).
type Reminders struct {
	alerts    AlertSource
	worker    *Worker
	receivers *Receivers
	leaser    Leaser
	o         ReminderOptions
}

// NewReminders returns the ticker. leaser is the log's (RedisLog and
// LocalLog are both Leasers).
func NewReminders(alerts AlertSource, worker *Worker, leaser Leaser, o ReminderOptions) (*Reminders, error) {
	if alerts == nil || worker == nil || leaser == nil {
		return nil, errors.New("notify: reminders: nil alert source, worker or leaser")
	}
	if o.Owner == "" {
		return nil, errors.New("notify: reminders: empty owner")
	}
	if o.RepeatInterval == 0 {
		o.RepeatInterval = DefaultRepeatInterval
	}
	if o.Tick <= 0 {
		o.Tick = DefaultReminderTick
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Reminders{alerts: alerts, worker: worker, receivers: worker.receivers, leaser: leaser, o: o}, nil
}

// Run ticks every Tick until ctx ends.
func (r *Reminders) Run(ctx context.Context) error {
	every(ctx, r.o.Tick, r.Tick, func(err error) { r.o.Logger.Warn("reminder tick failed", "err", err) })
	return nil
}

// Tick creates the due reminders and makes the due Alertmanager re-sends.
func (r *Reminders) Tick(ctx context.Context) error {
	now := r.o.Now()
	firing, err := r.alerts.FiringAlerts(ctx)
	if err != nil {
		return fmt.Errorf("notify: reminders: %w", err)
	}
	return errors.Join(r.remind(ctx, firing, now), r.resend(ctx, firing, now))
}

// remind hands the due reminder of every firing alert to the worker.
func (r *Reminders) remind(ctx context.Context, firing []projections.Alert, now time.Time) error {
	if r.o.RepeatInterval < 0 {
		return nil
	}
	var errs []error
	for _, a := range firing {
		k := int64(now.Sub(a.StartedAt) / r.o.RepeatInterval)
		if k < 1 {
			continue
		}
		if r.o.Acker != nil {
			acked, err := r.o.Acker.Acked(ctx, a.ID)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if acked {
				continue
			}
		}
		for _, rc := range r.receivers.All() {
			if rc.Kind == KindAlertmanager {
				continue // Alertmanager has its own re-sends and repeat_interval
			}
			if _, off := r.receivers.DisabledReason(rc.Name); off {
				continue // its notifications are dead-lettered already
			}
			n := NotificationOfAlert(a, rc.Name, StateFiring, r.o.Link)
			if !rc.Route.Matches(n) {
				continue
			}
			if _, muted := r.worker.o.Muter.Muted(n); muted {
				// No reminder while silenced or in maintenance: held ones
				// would all go out together when the mute ends.
				continue
			}
			n.ID = ReminderID(n.ID, k)
			if err := r.worker.Deliver(ctx, n); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
