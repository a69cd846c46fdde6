package service

import (
	"context"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections/consumers"
)

// buildPipeline wires probing: manager, scheduler, claims, apply.
func (a *Replica) buildPipeline(opts Options) error {
	cfg := a.cfg
	openers := opts.Openers
	if openers == nil {
		openers = probes.Openers()
		openers[probes.Nacos] = probes.NacosOpener(cfg.Service.DataDir)
	}
	newServiceMetrics(a.prom, a.outboxLimit,
		func(ctx context.Context) (float64, error) { n, err := a.store.OutboxLen(ctx); return float64(n), err },
		func(ctx context.Context) (float64, error) {
			n, err := a.store.Models.Firing(ctx)
			return float64(n), err
		})
	var err error
	if a.observed, err = probes.NewObservedSink(a.store.Sink, a.prom); err != nil {
		return err
	}
	// The scheduler and the manager point at each other (a lost connection
	// triggers a probe): the manager reports through a closure.
	var sched *probes.Scheduler
	a.mgr = probes.NewManager(openers, a.log.With("component", "probes"), func(id, _ string) {
		sched.Trigger(id, probes.TriggerWatch)
	})
	sched = probes.NewScheduler(a.mgr, a.store.Claimer, a.observed, probes.SchedulerOptions{
		Concurrency:     cfg.Probe.Concurrency,
		RetryInterval:   cfg.Probe.RetryInterval,
		RecoveryBackoff: cfg.Probe.RecoveryBackoff,
		Logger:          a.log.With("component", "scheduler"),
	})
	a.sched = sched
	a.prom.MustRegister(sched.Collectors()...)
	return nil
}

// The live group is this replica's own queue for the SSE streams: every
// transition, and checks while a client wants them.
const (
	liveGroup          = "live"
	liveBinding        = "db.health.state_changed.*"
	liveCheckedBinding = "db.health.checked.*"
)

// buildProjections puts each projection on its shared queue (shared mode;
// the embedded store projects as it applies) and the live event stream on
// this replica's own queue.
func (a *Replica) buildProjections() error {
	if a.store.Projected {
		if err := consumers.Add(a.bus, a.store.Models, a.prom); err != nil {
			return err
		}
	}
	if err := a.bus.AddConsumer(notifyGroup, []string{liveBinding}, a.delivery.handle); err != nil {
		return err
	}
	return a.bus.AddReplicaConsumer(liveGroup, []string{liveBinding}, a.live.Handle)
}
