package service

import (
	"context"
	"slices"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/notify"
	"github.com/dbhealth/database-service/notify/mute"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/projections/stores"
)

// alertSource reads the alerts read model for the reminders.
type alertSource struct{ models stores.ReadModels }

// FiringAlerts implements notify.AlertSource.
func (s alertSource) FiringAlerts(ctx context.Context) ([]projections.Alert, error) {
	return s.models.Alerts(ctx, projections.AlertQuery{State: projections.AlertFiring, Limit: projections.MaxAlertLimit})
}

// ResolvedSince implements notify.AlertSource.
func (s alertSource) ResolvedSince(ctx context.Context, since time.Time) ([]projections.Alert, error) {
	all, err := s.models.Alerts(ctx, projections.AlertQuery{State: projections.AlertResolved, Limit: projections.MaxAlertLimit})
	if err != nil {
		return nil, err
	}
	var out []projections.Alert
	for _, a := range all {
		if a.ResolvedAt != nil && !a.ResolvedAt.Before(since) {
			out = append(out, a)
		}
	}
	return out, nil
}

// resolved reports whether the alerts read model has n's alert resolved
// (not yet projected counts as not resolved).
func (s alertSource) resolved(ctx context.Context, n notify.Notification) (bool, error) {
	rs, err := s.ResolvedSince(ctx, n.StartedAt)
	if err != nil {
		return false, err
	}
	for _, a := range rs {
		if a.ID == n.AlertID {
			return true, nil
		}
	}
	return false, nil
}

// acker tells the acknowledged alerts, which get no reminders.
type acker struct{ store mute.Store }

// Acked implements notify.Acker.
func (a acker) Acked(ctx context.Context, alertID string) (bool, error) {
	acks, err := a.store.Acks(ctx)
	if err != nil {
		return false, err
	}
	_, ok := acks[alertID]
	return ok, nil
}

// muteFunc holds back the notifications of silenced alerts and of alerts
// in maintenance. When the mutes cannot be read, the last snapshot
// decides.
func muteFunc(m *mute.Muter) notify.Muter {
	return notify.MuteFunc(func(n notify.Notification) (string, bool) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		marks, _ := m.Marks(ctx, mute.Subject{Type: n.Target.Type, Name: n.Target.Name, Severity: string(n.Severity), AlertID: n.AlertID})
		switch {
		case len(marks.SilencedBy) > 0:
			return "silenced by " + marks.SilencedBy[0], true
		case marks.Maintenance != "":
			return "in maintenance window " + marks.Maintenance, true
		}
		return "", false
	})
}

// windows lists the configured and the API-created maintenance windows
// for the API.
type windows struct{ d *delivery }

// PutWindow implements api.Maintenance.
func (w windows) PutWindow(ctx context.Context, win mute.Window) error {
	if err := w.d.mutes.PutWindow(ctx, win); err != nil {
		return err
	}
	return w.d.muter.Refresh(ctx)
}

// Windows implements api.Maintenance.
func (w windows) Windows(ctx context.Context) ([]mute.Window, error) {
	stored, err := w.d.mutes.Windows(ctx)
	if err != nil {
		return nil, err
	}
	w.d.mu.Lock()
	out := append([]mute.Window(nil), w.d.configured...)
	w.d.mu.Unlock()
	return append(out, stored...), nil
}

// DeleteWindow implements api.Maintenance: only a window created through
// the API can go; the configuration's are the targets file's.
func (w windows) DeleteWindow(ctx context.Context, id string) error {
	w.d.mu.Lock()
	configured := slices.ContainsFunc(w.d.configured, func(x mute.Window) bool { return x.ID == id })
	w.d.mu.Unlock()
	if configured {
		return mute.ErrConfigured
	}
	if err := w.d.mutes.DeleteWindow(ctx, id); err != nil {
		return err
	}
	return w.d.muter.Refresh(ctx)
}

// receiverList lists the receivers in force for the API.
type receiverList struct{ d *delivery }

// Receivers implements api.Receivers.
func (r receiverList) Receivers() []api.ReceiverInfo {
	cur := r.d.gen()
	if cur == nil {
		return nil
	}
	var out []api.ReceiverInfo
	for _, rc := range cur.receivers.All() {
		reason, off := cur.receivers.DisabledReason(rc.Name)
		out = append(out, api.ReceiverInfo{Name: rc.Name, Kind: string(rc.Kind), Disabled: off, DisabledReason: reason})
	}
	return out
}

// Enable implements api.Receivers: the mark goes from the store, so every
// replica's worker enables the receiver on its next sweep (this one at
// once).
func (r receiverList) Enable(ctx context.Context, name string) error {
	cur := r.d.gen()
	if cur == nil {
		return api.ErrUnknownReceiver
	}
	if _, ok := cur.receivers.Get(name); !ok {
		return api.ErrUnknownReceiver
	}
	if err := r.d.notes.ClearGone(ctx, name); err != nil {
		return err
	}
	cur.receivers.Enable(name)
	return nil
}

// muteWrites writes silences and acks, refreshing the muter after each
// write so that this replica applies it at once (the others within the
// muter's refresh interval).
type muteWrites struct{ d *delivery }

// PutSilence implements api.Silences.
func (s muteWrites) PutSilence(ctx context.Context, si mute.Silence) error {
	if err := s.d.mutes.PutSilence(ctx, si); err != nil {
		return err
	}
	return s.d.muter.Refresh(ctx)
}

// Silences implements api.Silences.
func (s muteWrites) Silences(ctx context.Context) ([]mute.Silence, error) {
	return s.d.mutes.Silences(ctx)
}

// ExpireSilence implements api.Silences.
func (s muteWrites) ExpireSilence(ctx context.Context, id string, now time.Time) (mute.Silence, error) {
	si, err := s.d.mutes.ExpireSilence(ctx, id, now)
	if err != nil {
		return si, err
	}
	return si, s.d.muter.Refresh(ctx)
}

// PutAck implements api.Acks.
func (s muteWrites) PutAck(ctx context.Context, a mute.Ack) error {
	if err := s.d.mutes.PutAck(ctx, a); err != nil {
		return err
	}
	return s.d.muter.Refresh(ctx)
}

// DeleteAck implements api.Acks.
func (s muteWrites) DeleteAck(ctx context.Context, alertID string) error {
	if err := s.d.mutes.DeleteAck(ctx, alertID); err != nil {
		return err
	}
	return s.d.muter.Refresh(ctx)
}
