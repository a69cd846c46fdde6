package notify

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/dbhealth/database-service/projections"
)

// Alertmanager re-sends. Alertmanager forgets an alert that is not sent
// again before its endsAt, so a firing alert is re-sent every resend
// interval, and a resolved one for ResolvedResendWindow after it resolved
// (KeepResending). Re-sends are idempotent at Alertmanager (it merges
// alerts by labels), so they skip the exactly-once log; to keep every
// replica from sending each of them on every tick, one replica takes a
// lease per (receiver, notification, interval bucket) through the log's
// Leaser, key "am:<receiver>:<id>:<floor(now/interval)>", for one
// interval. A replica that dies after taking the lease skips one re-send;
// the endsAt of four intervals covers it.

// resender is a receiver with a resend interval (*Alertmanager).
type resender interface {
	ResendInterval() time.Duration
}

// resend makes the due Alertmanager re-sends of the firing alerts and of
// those resolved within ResolvedResendWindow.
func (r *Reminders) resend(ctx context.Context, firing []projections.Alert, now time.Time) error {
	var ams []Receiver
	for _, rc := range r.receivers.All() {
		if _, ok := rc.Sender.(resender); ok && rc.Kind == KindAlertmanager {
			ams = append(ams, rc)
		}
	}
	if len(ams) == 0 {
		return nil
	}
	resolved, err := r.alerts.ResolvedSince(ctx, now.Add(-ResolvedResendWindow))
	if err != nil {
		return err
	}
	resolved = latestResolved(resolved, firing)
	var errs []error
	for _, rc := range ams {
		if _, off := r.receivers.DisabledReason(rc.Name); off {
			continue
		}
		interval := rc.Sender.(resender).ResendInterval()
		bucket := strconv.FormatInt(now.UnixMilli()/max(interval.Milliseconds(), 1), 10)
		for _, set := range []struct {
			alerts []projections.Alert
			state  State
		}{{firing, StateFiring}, {resolved, StateResolved}} {
			for _, a := range set.alerts {
				n := NotificationOfAlert(a, rc.Name, set.state, r.o.Link)
				if !rc.Route.Matches(n) || !KeepResending(n, now) {
					continue
				}
				if _, muted := r.worker.o.Muter.Muted(n); muted {
					continue
				}
				ok, err := r.leaser.Lease(ctx, "am:"+rc.Name+":"+n.ID+":"+bucket, r.o.Owner, interval)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				if ok {
					r.send(ctx, rc, n)
				}
			}
		}
	}
	return errors.Join(errs...)
}

// send makes one re-send; a failure is logged and counted, and the next
// interval's re-send is the retry.
func (r *Reminders) send(ctx context.Context, rc Receiver, n Notification) {
	actx, cancel := context.WithTimeout(ctx, r.worker.o.AttemptTimeout)
	err := rc.Sender.Send(actx, n)
	cancel()
	lg := r.o.Logger.With("receiver", rc.Name, "notification", n.ID, "alert", n.AlertID, "state", string(n.State))
	if err != nil {
		r.o.Metrics.Count(rc.Name, "resend_failed")
		lg.Warn("alertmanager re-send failed", "err", Classify(err).Error())
		return
	}
	r.o.Metrics.Count(rc.Name, "resent")
	lg.Debug("alertmanager re-sent")
}

// latestResolved keeps, per target, the most recently resolved alert, and
// none for a target that fires again: Alertmanager merges alerts by
// labels, so re-sending an older incident's resolution would resolve the
// incident that fires now (or flip between two resolved ones).
func latestResolved(resolved, firing []projections.Alert) []projections.Alert {
	key := func(a projections.Alert) string { return a.Type + "/" + a.Name }
	fires := map[string]bool{}
	for _, a := range firing {
		fires[key(a)] = true
	}
	latest := map[string]projections.Alert{}
	var order []string
	for _, a := range resolved {
		k := key(a)
		if fires[k] || a.ResolvedAt == nil {
			continue
		}
		cur, seen := latest[k]
		if !seen {
			order = append(order, k)
		}
		if !seen || a.ResolvedAt.After(*cur.ResolvedAt) {
			latest[k] = a
		}
	}
	out := make([]projections.Alert, 0, len(order))
	for _, k := range order {
		out = append(out, latest[k])
	}
	return out
}
