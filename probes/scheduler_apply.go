package probes

import (
	"context"
	"time"
)

// Applying results: checks go to the Sink in batches, one store round trip
// per batch, and each outcome is followed up (see followUp).

// Batching of results: the sink costs one store round trip per batch.
const (
	applyBatch = 256
	// applyLinger is how long a batch waits for more results after its
	// first one; probes finish spread over time, and a few milliseconds
	// turn one round trip per check into one per batch.
	applyLinger = 10 * time.Millisecond
)

// applyLoop hands results to the sink in batches and schedules re-probes
// for pending transitions. Manual and watch-triggered checks are applied
// without waiting.
func (s *Scheduler) applyLoop(ctx context.Context) {
	batch := make([]Check, 0, applyBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for c := range s.results {
		batch = append(batch[:0], c)
		urgent := c.Trigger != TriggerSchedule
		linger.Reset(applyLinger)
	fill:
		for len(batch) < applyBatch && !urgent {
			select {
			case c, ok := <-s.results:
				if !ok {
					break fill
				}
				batch = append(batch, c)
				urgent = c.Trigger != TriggerSchedule
			case <-linger.C:
				break fill
			}
		}
		linger.Stop()
		s.apply(context.WithoutCancel(ctx), batch)
	}
}

func (s *Scheduler) apply(ctx context.Context, batch []Check) {
	batch = s.configured(batch)
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	outs, err := s.sink.Apply(ctx, batch)
	if err != nil {
		// Their results are not recorded; probe these targets again as
		// soon as the store answers.
		s.logs.every(s.log, "apply", "applying checks failed; probing again soon", "err", err, "checks", len(batch))
		for _, c := range batch {
			s.triggerAt(c.Result.Target.ID(), TriggerRetry, s.opts.RetryInterval)
		}
		return
	}
	for i, o := range outs {
		if i < len(batch) {
			s.followUp(batch[i].Result.Target.ID(), o)
		}
	}
}

// configured drops results of targets removed while they were probed.
func (s *Scheduler) configured(batch []Check) []Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := batch[:0]
	for _, c := range batch {
		if _, ok := s.current[c.Result.Target.ID()]; ok {
			kept = append(kept, c)
		} else {
			s.dropped.Add(1)
		}
	}
	return kept
}
