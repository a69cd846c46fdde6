package source

import (
	"context"
	"sync"

	"github.com/dbhealth/database-service/config"
)

// The live sources of targets, in merge order.
const (
	fileSet = iota
	nacosSet
	numSets
)

// sets holds the targets of TARGETS_FILE and of the Nacos entry. The
// probed set is the default targets plus both, merged by kind/name: a
// target defined by both with different settings is refused. mu
// serialises every apply (parse, merge, emit, view), so the two sources
// never interleave.
type sets struct {
	mu sync.Mutex
	// applied is the latest document of each source that is in force.
	applied [numSets]config.TargetSet
	// pending is a source's latest valid document refused for a conflict:
	// it is tried again with the next change of another source (which may
	// have resolved the conflict).
	pending [numSets]*config.TargetSet
	// lastNacos is the last Nacos content handled, so that the watch's
	// first delivery of what start-up read is not applied twice.
	lastNacos string
}

// apply validates a targets document (the TARGETS_FILE format) of one
// source as a whole and, when valid and not in conflict with the other
// source's targets, emits the defaults plus both sources' targets.
// Otherwise the change is rejected with a logged error naming the
// problem; the configuration in force stays.
func (s *Source) apply(ctx context.Context, which int, source string, doc []byte) error {
	s.sets.mu.Lock()
	defer s.sets.mu.Unlock()
	s.sets.pending[which] = nil
	ts, err := s.cfg.DocTargets(doc)
	if err != nil {
		return s.reject(source, err)
	}
	al, err := config.ParseAlerting(doc)
	if err != nil {
		return s.reject(source, err)
	}
	set := config.TargetSet{Source: source, Targets: ts, Alerting: al}
	alone := s.sets.applied
	alone[which] = set
	tries := [][numSets]config.TargetSet{alone}
	withPending := alone
	for i, p := range s.sets.pending {
		if p != nil {
			withPending[i] = *p
			tries = [][numSets]config.TargetSet{withPending, alone}
		}
	}
	for i, next := range tries {
		merged, sources, merr := s.cfg.MergeTargets(next[:]...)
		if err = merr; err != nil {
			continue
		}
		alerting, aerr := s.cfg.MergeAlerting(next[:]...)
		if err = aerr; err != nil {
			continue
		}
		tookPending := i < len(tries)-1
		if tookPending { // the pending documents are in force too
			s.sets.pending = [numSets]*config.TargetSet{}
		}
		s.sets.applied = next
		s.opts.Emit(ctx, merged)
		if s.opts.EmitAlerting != nil {
			s.opts.EmitAlerting(ctx, alerting)
		}
		s.view.set(source, merged, sources)
		s.reloads.WithLabelValues("applied").Inc()
		s.log.Info("configuration change applied", "source", source, "targets", len(merged), "with_pending", tookPending)
		return nil
	}
	s.sets.pending[which] = &set
	return s.reject(source, err)
}

// reject counts and logs a refused change.
func (s *Source) reject(source string, err error) error {
	s.reloads.WithLabelValues("rejected").Inc()
	s.log.Error("configuration change rejected; previous configuration kept", "source", source, "err", err)
	return err
}

// seenNacos reports whether content is the Nacos content handled last,
// and records it.
func (s *Source) seenNacos(content string) bool {
	s.sets.mu.Lock()
	defer s.sets.mu.Unlock()
	seen := content == s.sets.lastNacos
	s.sets.lastNacos = content
	return seen
}
