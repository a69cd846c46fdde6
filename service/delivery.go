package service

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/notify"
	"github.com/dbhealth/database-service/notify/mute"
)

// notifyGroup is the consumer group of alert delivery: one shared queue
// bound to every transition.
const notifyGroup = "notify"

// deliveryLog is what alert delivery keeps in the store: the notification
// log, the leases of periodic jobs and the transitions the dispatcher
// reads (notify.RedisLog, notify.LocalLog).
type deliveryLog interface {
	notify.Log
	notify.Leaser
	notify.TransitionLog
	notify.Pender
	notify.Pruner
	notify.GoneStore
}

// pruneTick is how often the notification log drops the finished entries
// older than ALERT_LOG_RETENTION.
const pruneTick = 10 * time.Minute

// delivery is alert delivery on this replica: the notification log and
// the mutes in the store, and the receivers of the configuration in force
// with the worker and reminder loops over them, restarted when the
// receivers change.
type delivery struct {
	cfg     *config.Config
	log     *slog.Logger
	notes   deliveryLog
	mutes   mute.Store
	muter   *mute.Muter
	metrics *notify.Metrics
	alerts  alertSource
	closers []func() error

	mu      sync.Mutex
	current *deliveryGen
	// configured are the maintenance windows of the configuration.
	configured []mute.Window
	changed    chan struct{}
}

// deliveryGen is one configuration's receivers and the loops over them.
type deliveryGen struct {
	receivers *notify.Receivers
	pipeline  *notify.Pipeline
	worker    *notify.Worker
	reminders *notify.Reminders
}

// holdRecheck is how soon a muted notification is looked at again, so a
// silence or window that ends is followed within the muter's refresh.
const holdRecheck = 2 * time.Second

// reminderTick is how often firing alerts are looked at for reminders
// and Alertmanager re-sends: a quarter of the shorter period, within
// 200ms..10s.
func reminderTick(d config.DeliveryConfig) time.Duration {
	period := d.ResendInterval
	if d.RepeatInterval > 0 {
		period = min(period, d.RepeatInterval)
	}
	return min(max(period/4, 200*time.Millisecond), 10*time.Second)
}

// newDelivery opens the notification log and the mutes: in the shared
// store's Redis under STORE_KEY_PREFIX, or in DATA_DIR beside the
// embedded store.
func (a *Replica) newDelivery() (*delivery, error) {
	d := &delivery{cfg: a.cfg, log: a.log.With("component", "notify"), alerts: alertSource{a.store.Models},
		changed: make(chan struct{}, 1)}
	if rdb := a.store.Redis; rdb != nil {
		rl, err := notify.NewRedisLog(rdb, a.cfg.Store.KeyPrefix, nil)
		if err != nil {
			return nil, err
		}
		d.notes, d.mutes = rl, mute.NewRedisStore(rdb, a.cfg.Store.KeyPrefix)
	} else {
		ll, err := notify.OpenLocalLog(filepath.Join(a.cfg.Service.DataDir, "notify"), nil, d.log)
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, ll.Close)
		ms, err := mute.OpenLocalStore(filepath.Join(a.cfg.Service.DataDir, "mute"))
		if err != nil {
			_ = ll.Close()
			return nil, err
		}
		d.notes, d.mutes = ll, ms
		d.closers = append(d.closers, ms.Close)
	}
	d.muter = mute.NewMuter(d.mutes, nil, nil)
	var err error
	if d.metrics, err = notify.NewMetrics(a.prom, notify.PendingFunc(d.notes, time.Second)); err != nil {
		return nil, err
	}
	return d, nil
}

// apply builds the receivers of al and the loops over them, replacing
// the ones in force (a receiver disabled by a 410 is enabled again).
func (d *delivery) apply(al config.Alerting) error {
	nc := notify.Config{Receivers: al.Receivers}
	rs, err := nc.Build(notify.Deps{})
	if err != nil {
		return err
	}
	receivers, err := notify.NewReceivers(rs)
	if err != nil {
		return err
	}
	owner := d.cfg.Service.ReplicaID
	dd := d.cfg.Alerts.Delivery
	worker, err := notify.NewWorker(d.notes, receivers, notify.WorkerOptions{
		Owner: owner, MaxAttempts: dd.MaxAttempts, Muter: muteFunc(d.muter), Resolved: d.alerts.resolved,
		Lease: dd.ClaimLease, AttemptTimeout: dd.SendTimeout, BackoffBase: dd.RetryInterval,
		HoldRecheck: holdRecheck, Gone: d.notes, Metrics: d.metrics, Logger: d.log,
	})
	if err != nil {
		return err
	}
	dispatcher, err := notify.NewDispatcher(rs, d.notes, d.link)
	if err != nil {
		return err
	}
	pipeline, err := notify.NewPipeline(dispatcher, worker)
	if err != nil {
		return err
	}
	repeat := dd.RepeatInterval
	if repeat == 0 {
		repeat = -1 // ALERT_REPEAT_INTERVAL=0: no reminders
	}
	reminders, err := notify.NewReminders(d.alerts, worker, d.notes, notify.ReminderOptions{
		Owner: owner, RepeatInterval: repeat, Tick: reminderTick(dd), Acker: acker{d.mutes}, Link: d.link,
		Logger: d.log, Metrics: d.metrics,
	})
	if err != nil {
		return err
	}
	d.muter.SetConfigured(al.Maintenance)
	d.mu.Lock()
	d.current = &deliveryGen{receivers: receivers, pipeline: pipeline, worker: worker, reminders: reminders}
	d.configured = al.Maintenance
	d.mu.Unlock()
	select {
	case d.changed <- struct{}{}:
	default:
	}
	d.log.Info("alert receivers in force", "receivers", len(rs), "maintenance_windows", len(al.Maintenance))
	return nil
}

// reload applies a live change of the configuration; a receiver that
// cannot be built keeps the previous ones in force.
func (d *delivery) reload(_ context.Context, al config.Alerting) {
	if err := d.apply(al); err != nil {
		d.log.Error("receivers change rejected; previous receivers kept", "err", err)
	}
}

func (d *delivery) gen() *deliveryGen {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current
}

// handle is the notify group's handler: every transition.
func (d *delivery) handle(ctx context.Context, e events.Envelope) error {
	s, err := e.StateChanged()
	if err != nil {
		return err // wraps events.ErrInvalid: poison
	}
	return d.gen().pipeline.OnStateChanged(ctx, s)
}

// Run runs the worker and the reminders of the receivers in force until
// ctx ends, restarting them when the receivers change.
func (d *delivery) Run(ctx context.Context) error {
	pctx, stopPrune := context.WithCancel(ctx)
	pruned := make(chan struct{})
	go func() {
		defer close(pruned)
		notify.RunPruner(pctx, d.notes, d.cfg.Alerts.Delivery.LogRetention, pruneTick, nil, d.log)
	}()
	defer func() { stopPrune(); <-pruned }()
	for {
		g, gctx := errgroup.WithContext(ctx)
		runCtx, stop := context.WithCancel(gctx)
		cur := d.gen()
		g.Go(func() error { return cur.worker.Run(runCtx) })
		g.Go(func() error { return cur.reminders.Run(runCtx) })
		select {
		case <-ctx.Done():
		case <-d.changed:
		}
		stop()
		if err := g.Wait(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
}

// Close closes the embedded stores of delivery.
func (d *delivery) Close() error {
	var errs []error
	for _, c := range d.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}

// link is the API address of an alert, for the notifications.
func (d *delivery) link(alertID string) string {
	base := d.cfg.Alerts.Delivery.BaseURL
	if base == "" {
		host := d.cfg.Service.IP
		if host == "" {
			host = "localhost"
		}
		base = "http://" + net.JoinHostPort(host, strconv.Itoa(d.cfg.Service.Port))
	}
	return base + "/api/database/alerts?state=all#" + alertID
}
