// Package reconcile keeps a replica's probing and its read models in line
// with the configured target set: the manager and the scheduler probe
// exactly the set, and what the store holds of a target that left it is
// forgotten (its firing alert resolved as removed, its transition state
// dropped so that a target added again starts a new epoch).
package reconcile

import (
	"context"
	"log/slog"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
)

// Timeouts of the store calls.
const (
	forgetTimeout = 5 * time.Second
	listTimeout   = 10 * time.Second
)

// Manager holds a client per target (*probes.Manager).
type Manager interface {
	Targets() []probes.Target
	SetTargets(ts []probes.Target) probes.Change
}

// Scheduler probes the targets on their schedule (*probes.Scheduler).
type Scheduler interface {
	SetTargets(ts []probes.Target)
}

// Options are a Reconciler's dependencies.
type Options struct {
	Manager   Manager
	Scheduler Scheduler
	// Forget removes a target from the read models and the coordination.
	Forget func(ctx context.Context, kind, name string) error
	// Known lists the targets the read models hold.
	Known func(ctx context.Context) ([]events.TargetRef, error)
	// OnRemoved, when set, is told of each target removed by Set (to drop
	// its metric series).
	OnRemoved func(t probes.Target)
	Logger    *slog.Logger
}

// Reconciler applies target sets. Build it with New.
type Reconciler struct {
	opts Options
	log  *slog.Logger
}

// New returns a reconciler over opts.
func New(opts Options) *Reconciler {
	if opts.OnRemoved == nil {
		opts.OnRemoved = func(probes.Target) {}
	}
	return &Reconciler{opts: opts, log: opts.Logger}
}

// Start applies the start-up set ts and forgets what the read models hold
// of targets it does not have (removed while no replica ran).
func (r *Reconciler) Start(ctx context.Context, ts []probes.Target) {
	r.Set(ctx, ts)
	r.forgetUnknown(ctx, ts)
}

// Set makes ts the probed set, in the manager and the scheduler, and
// forgets the targets it removes.
func (r *Reconciler) Set(ctx context.Context, ts []probes.Target) {
	before := map[string]probes.Target{}
	for _, t := range r.opts.Manager.Targets() {
		before[t.ID()] = t
	}
	ch := r.opts.Manager.SetTargets(ts)
	r.opts.Scheduler.SetTargets(ts)
	for _, id := range ch.Removed {
		t := before[id]
		r.opts.OnRemoved(t)
		r.forget(ctx, string(t.Kind), t.Name)
	}
	r.log.Info("targets set", "count", len(ts), "added", ch.Added, "removed", ch.Removed, "changed", ch.Changed)
}

// forget drops a target that left the configuration from the store.
func (r *Reconciler) forget(ctx context.Context, kind, name string) {
	fctx, cancel := context.WithTimeout(ctx, forgetTimeout)
	defer cancel()
	if err := r.opts.Forget(fctx, kind, name); err != nil {
		r.log.Warn("forgetting removed target", "target", kind+"/"+name, "err", err)
	}
}

// forgetUnknown forgets the targets the read models hold that ts has not.
func (r *Reconciler) forgetUnknown(ctx context.Context, ts []probes.Target) {
	lctx, cancel := context.WithTimeout(ctx, listTimeout)
	defer cancel()
	known, err := r.opts.Known(lctx)
	if err != nil {
		r.log.Warn("reconciling the read models with the configuration", "err", err)
		return
	}
	configured := map[string]bool{}
	for _, t := range ts {
		configured[t.ID()] = true
	}
	for _, k := range known {
		if !configured[k.Subject()] {
			r.log.Info("forgetting a target no longer configured", "target", k.Subject())
			r.forget(ctx, k.Type, k.Name)
		}
	}
}
