package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
)

// Worker defaults.
const (
	DefaultMaxAttempts    = 8
	DefaultLease          = 2 * time.Minute
	DefaultAttemptTimeout = 30 * time.Second
	DefaultPoll           = time.Second
	DefaultBackoffBase    = 5 * time.Second
	DefaultBackoffMax     = 10 * time.Minute
	DefaultHoldRecheck    = 30 * time.Second
	defaultBatch          = 100
	defaultConcurrency    = 4
)

// WorkerOptions tune a Worker; zero values take the defaults.
type WorkerOptions struct {
	// Owner names this worker in claims (the replica id); required.
	Owner string
	// Lease is how long a claim lasts; it must exceed AttemptTimeout, or
	// a slow attempt could be taken over while it runs.
	Lease time.Duration
	// AttemptTimeout bounds one send (on top of the receiver's own).
	AttemptTimeout time.Duration
	// Poll is how often the log is asked for due notifications.
	Poll time.Duration
	// MaxAttempts dead-letters a notification after that many retryable
	// failures (ALERT_MAX_ATTEMPTS).
	MaxAttempts int
	// BackoffBase and BackoffMax shape Backoff between attempts.
	BackoffBase, BackoffMax time.Duration
	// HoldRecheck is how soon a muted notification is asked about again.
	HoldRecheck time.Duration
	// Concurrency caps the attempts in flight.
	Concurrency int
	// Muter holds notifications back; nil mutes nothing.
	Muter Muter
	// Resolved reports whether the alert of a firing notification has
	// resolved since; a muted firing notification whose alert resolved
	// is suppressed rather than sent when the mute ends. nil: never.
	Resolved func(ctx context.Context, n Notification) (bool, error)
	// Gone shares the receivers disabled by a 410 with the other
	// replicas; nil keeps them to this process.
	Gone GoneStore
	// Metrics counts outcomes; nil counts nothing.
	Metrics *Metrics
	// Logger receives one record per outcome; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o WorkerOptions) withDefaults() WorkerOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Lease, DefaultLease)
	def(&o.AttemptTimeout, DefaultAttemptTimeout)
	def(&o.Poll, DefaultPoll)
	def(&o.BackoffBase, DefaultBackoffBase)
	def(&o.BackoffMax, DefaultBackoffMax)
	def(&o.HoldRecheck, DefaultHoldRecheck)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	if o.Muter == nil {
		o.Muter = Mutes(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Worker delivers the notifications of the log: it claims each one, asks
// the Muter, sends it with the receiver's Sender and records the outcome.
// Workers of many replicas share one log; the log's claims make each
// notification go out once.
type Worker struct {
	log       Log
	receivers *Receivers
	o         WorkerOptions
}

// NewWorker returns a worker over log for receivers.
func NewWorker(log Log, receivers *Receivers, o WorkerOptions) (*Worker, error) {
	o = o.withDefaults()
	switch {
	case log == nil || receivers == nil:
		return nil, errors.New("notify: worker: nil log or receivers")
	case o.Owner == "":
		return nil, errors.New("notify: worker: empty owner")
	case o.Lease <= o.AttemptTimeout:
		return nil, fmt.Errorf("notify: worker: lease %v must exceed the attempt timeout %v", o.Lease, o.AttemptTimeout)
	}
	o.Logger = o.Logger.With("owner", o.Owner)
	return &Worker{log: log, receivers: receivers, o: o}, nil
}

// Run delivers due notifications every Poll until ctx ends. A log that
// does not answer is logged and asked again at the next poll.
func (w *Worker) Run(ctx context.Context) error {
	every(ctx, w.o.Poll, w.Sweep, func(err error) { w.o.Logger.Warn("notification log unavailable", "err", err) })
	return nil
}

// Sweep makes one attempt at every due notification: pending ones whose
// time came, and orphans whose worker's lease expired.
func (w *Worker) Sweep(ctx context.Context) error {
	if err := w.syncGone(ctx); err != nil {
		w.o.Logger.Warn("receivers gone elsewhere unknown", "err", err)
	}
	due, err := w.log.Due(ctx, w.o.Now(), defaultBatch)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(w.o.Concurrency)
	for _, e := range due {
		g.Go(func() error { return w.Deliver(gctx, e.Notification) })
	}
	return g.Wait()
}

// Deliver claims n (adding it to the log if new) and, when the claim is
// won, makes one attempt and records its outcome; a notification another
// worker holds, or already delivered or dead-lettered, is left alone. It
// returns an error only when the log fails; when ctx ends during the
// attempt nothing is recorded and the claim's lease lets another worker
// take over.
func (w *Worker) Deliver(ctx context.Context, n Notification) error {
	c, ok, err := w.log.Claim(ctx, n, w.o.Owner, w.o.Lease)
	if err != nil || !ok {
		return err
	}
	o, ok := w.attempt(ctx, c.Entry)
	if !ok {
		return nil
	}
	return w.record(ctx, c.Entry, o)
}

// attempt makes one attempt at e; ok is false when ctx ended meanwhile.
func (w *Worker) attempt(ctx context.Context, e Entry) (o Outcome, ok bool) {
	n := e.Notification
	o.Attempts = e.Attempts
	r, known := w.receivers.Get(n.Receiver)
	if !known {
		o.Kind, o.Error = OutcomeFailed, "receiver not configured"
		return o, true
	}
	if reason, off := w.receivers.DisabledReason(n.Receiver); off {
		o.Kind, o.Error = OutcomeDisabled, "receiver disabled: "+reason
		return o, true
	}
	if reason, muted := w.o.Muter.Muted(n); muted {
		o.Kind, o.At, o.Error = OutcomeHeld, w.o.Now().Add(w.o.HoldRecheck), "muted: "+reason
		if w.obsolete(ctx, n) {
			o.Kind, o.At, o.Error = OutcomeSuppressed, time.Time{}, "muted ("+reason+") and resolved"
		}
		return o, true
	}
	if e.LastOutcome == OutcomeHeld && w.obsolete(ctx, n) {
		// The mute ended after the alert resolved.
		o.Kind, o.Error = OutcomeSuppressed, "resolved while muted"
		return o, true
	}
	actx, cancel := context.WithTimeout(ctx, w.o.AttemptTimeout)
	err := r.Sender.Send(actx, n)
	cancel()
	if ctx.Err() != nil {
		return o, false
	}
	o.Attempts++
	if err == nil {
		o.Kind = OutcomeDelivered
		return o, true
	}
	ce := Classify(err)
	o.Error = ce.Error()
	switch {
	case ce.Gone():
		w.disable(ctx, n.Receiver, o.Error)
		o.Kind = OutcomeDisabled
	case ce.Permanent():
		o.Kind = OutcomeFailed
	case o.Attempts >= w.o.MaxAttempts:
		o.Kind, o.Error = OutcomeFailed, fmt.Sprintf("gave up after %d attempts: %s", o.Attempts, o.Error)
	default:
		o.Kind = OutcomeRetry
		o.At = w.o.Now().Add(Backoff(o.Attempts, w.o.BackoffBase, w.o.BackoffMax, ce.RetryAfter, nil))
	}
	return o, true
}

// record stores o, logs and counts it.
func (w *Worker) record(ctx context.Context, e Entry, o Outcome) error {
	n := e.Notification
	lg := w.o.Logger.With("receiver", n.Receiver, "notification", n.ID, "alert", n.AlertID, "state", string(n.State), "attempts", o.Attempts)
	if err := w.log.Record(ctx, n.ID, w.o.Owner, o); err != nil {
		if errors.Is(err, ErrNotOwner) {
			// The lease ran out during the attempt and another worker
			// took the notification over: its outcome wins.
			lg.Warn("notification claim lost during the attempt", "outcome", string(o.Kind))
			return nil
		}
		return err
	}
	w.o.Metrics.Count(n.Receiver, o.Kind)
	switch o.Kind {
	case OutcomeDelivered:
		lg.Info("notification delivered")
	case OutcomeRetry:
		lg.Warn("notification attempt failed; retrying", "next", o.At, "err", o.Error)
	case OutcomeHeld:
		lg.Info("notification held", "next", o.At, "reason", o.Error)
	case OutcomeSuppressed:
		lg.Info("notification suppressed", "reason", o.Error)
	case OutcomeFailed:
		lg.Error("notification dead-lettered", "err", o.Error)
	case OutcomeDisabled:
		lg.Error("notification dead-lettered; receiver disabled", "err", o.Error)
	}
	return nil
}

// obsolete reports whether muted n is not worth sending any more: the
// resolution of a muted alert, or a firing notification whose alert has
// resolved while it was held (as Alertmanager, which sends nothing for an
// alert silenced from start to end).
func (w *Worker) obsolete(ctx context.Context, n Notification) bool {
	if n.State == StateResolved {
		return true
	}
	if w.o.Resolved == nil {
		return false
	}
	resolved, err := w.o.Resolved(ctx, n)
	return err == nil && resolved
}

// disable turns receiver name off here and marks it gone in the store for
// the other replicas (a store error is logged: they learn of the 410 on
// their own first attempt then).
func (w *Worker) disable(ctx context.Context, name, reason string) {
	m := w.receivers.Disable(name, reason, w.o.Now())
	if w.o.Gone == nil {
		return
	}
	if err := w.o.Gone.MarkGone(ctx, name, m); err != nil {
		w.o.Logger.Warn("receiver gone not shared with the other replicas", "receiver", name, "err", err)
	}
}

// syncGone disables the receivers marked gone in the store (by any
// replica) and enables those whose mark was cleared.
func (w *Worker) syncGone(ctx context.Context) error {
	if w.o.Gone == nil {
		return nil
	}
	marks, err := w.o.Gone.GoneMarks(ctx)
	if err != nil {
		return err
	}
	disabled, enabled := w.receivers.Sync(marks)
	for _, name := range disabled {
		w.o.Logger.Warn("receiver disabled: it answered 410 Gone", "receiver", name, "reason", marks[name].Reason, "since", marks[name].At)
	}
	for _, name := range enabled {
		w.o.Logger.Info("receiver enabled again", "receiver", name)
	}
	return nil
}
