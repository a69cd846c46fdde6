package notify

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// TransitionLog remembers the transitions of every target, so that the
// dispatcher of any replica can tell which alert a transition opens,
// escalates or resolves: a transition back to UP does not carry the id of
// the transition that opened its incident.
type TransitionLog interface {
	// Transitions records s (idempotently) and returns every recorded
	// transition of its target, in any order.
	Transitions(ctx context.Context, s events.StateChanged) ([]projections.Transition, error)
}

// Dispatcher turns StateChanged events into the notifications of the
// configured receivers. Alert ids and severities come from
// projections.Incidents over the target's transitions, the very rules of
// the alerts read model, so a notification's alert id is the id the API
// shows.
type Dispatcher struct {
	receivers []Receiver
	trans     TransitionLog
	link      func(alertID string) string
}

// NewDispatcher returns a dispatcher for receivers. link makes the Link
// of a notification from an alert id (nil: no link).
func NewDispatcher(receivers []Receiver, trans TransitionLog, link func(alertID string) string) (*Dispatcher, error) {
	if trans == nil {
		return nil, errors.New("notify: dispatcher: nil transition log")
	}
	if link == nil {
		link = func(string) string { return "" }
	}
	return &Dispatcher{receivers: receivers, trans: trans, link: link}, nil
}

// Dispatch records s and returns the notifications it causes. Calling it
// again with the same event (a redelivery, another replica) returns the
// same notifications with the same ids.
func (d *Dispatcher) Dispatch(ctx context.Context, s events.StateChanged) ([]Notification, error) {
	trs, err := d.trans.Transitions(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("notify: dispatch %s: %w", s.ID(), err)
	}
	return Notifications(s, trs, d.receivers, d.link), nil
}

// Notifications is the pure rule of Dispatch: the notifications of the
// alerts transition s touches, given every known transition of its target
// (s included), for receivers.
//
//   - An alert s opens or belongs to, still firing: a "firing"
//     notification, id NewID(receiver, alert, firing), to the receivers
//     whose route matches its current severity. Sending the same id again
//     is a no-op in the log, so a later DOWN<->DEGRADED move does not
//     repeat it; a receiver whose route takes only critical first gets it
//     when the alert escalates to DOWN.
//   - An escalation inside an incident (DEGRADED -> DOWN): also an
//     "escalated" firing notification, id NewID(receiver, alert, firing)
//   - ":escalated:<epoch>:<seq>", to the receivers that already took the
//     warning.
//   - An alert s resolves (back to UP, or an older epoch's alert that s's
//     new epoch resolves): the firing one (a no-op if already known) and a
//     "resolved" one, id NewID(receiver, alert, resolved), to the
//     receivers with send_resolved.
//
// The initial UNKNOWN -> UP opens nothing and notifies nothing. link is
// as for NewDispatcher.
func Notifications(s events.StateChanged, trs []projections.Transition, receivers []Receiver, link func(string) string) []Notification {
	if link == nil {
		link = func(string) string { return "" }
	}
	at := s.At.UnixMilli()
	var out []Notification
	for _, a := range projections.Incidents(s.Target.Type, s.Target.Name, trs) {
		inEpoch := a.Epoch == s.Epoch && a.Seq <= s.Seq &&
			(a.State == projections.AlertFiring || a.End == projections.EndSeq && a.ResolvedAt.UnixMilli() >= at)
		byEpoch := a.End == projections.EndEpoch && a.Epoch < s.Epoch && a.ResolvedAt.UnixMilli() == s.Epoch
		if !inEpoch && !byEpoch {
			continue
		}
		escalated := inEpoch && a.Seq < s.Seq && projections.Bad(s.From) &&
			events.State(s.To).Rank() > events.State(s.From).Rank()
		for _, r := range receivers {
			base := notificationOf(a, r.Name, s, link)
			f := base.with(StateFiring)
			if r.Route.Matches(f) {
				out = append(out, f)
			}
			if escalated {
				warn := f
				warn.Severity = events.SeverityWarning
				if r.Route.Matches(warn) && r.Route.Matches(f) {
					e := f
					e.ID += ":escalated:" + strconv.FormatInt(s.Epoch, 10) + ":" + strconv.FormatInt(s.Seq, 10)
					out = append(out, e)
				}
			}
			if a.State == projections.AlertResolved {
				if res := base.with(StateResolved); r.Route.Matches(res) {
					out = append(out, res)
				}
			}
		}
	}
	return out
}

// notificationOf is the notification of alert a for receiver, without
// its state and id.
func notificationOf(a projections.Alert, receiver string, s events.StateChanged, link func(string) string) Notification {
	if link == nil {
		link = func(string) string { return "" }
	}
	n := Notification{
		Receiver:  receiver,
		AlertID:   a.ID,
		Severity:  events.Severity(a.Severity),
		Target:    events.TargetRef{Type: a.Type, Name: a.Name},
		Reason:    a.Reason,
		StartedAt: a.StartedAt,
		EventID:   s.ID(),
		Link:      link(a.ID),
	}
	if a.ResolvedAt != nil {
		t := *a.ResolvedAt
		n.ResolvedAt = &t
	}
	return n
}

// with is n in state, with its id.
func (n Notification) with(state State) Notification {
	n.State = state
	n.ID = NewID(n.Receiver, n.AlertID, state)
	if state == StateFiring {
		n.ResolvedAt = nil
	}
	return n
}

// NotificationOfAlert is the notification of an alert of the read model
// for receiver in state (reminders and re-sends); link as for
// NewDispatcher.
func NotificationOfAlert(a projections.Alert, receiver string, state State, link func(string) string) Notification {
	n := notificationOf(a, receiver, events.StateChanged{}, link)
	n.EventID = ""
	return n.with(state)
}
