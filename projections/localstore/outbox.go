package localstore

import (
	"context"
	"time"

	"github.com/dbhealth/database-service/events"
)

// Publisher publishes events and returns once they were accepted.
type Publisher interface {
	Publish(ctx context.Context, envs ...events.Envelope) error
}

// relayBatch is the most transitions published at once.
const relayBatch = 100

// relayBackoff is the pause after a failed publish.
const relayBackoff = 500 * time.Millisecond

// RunRelay publishes the outbox through pub until ctx ends: the
// transitions that are on disk, oldest first, each batch removed once pub
// accepted it. Delivery is at least once (a crash between the publish and
// the removal's commit publishes the batch again).
func (s *Store) RunRelay(ctx context.Context, pub Publisher) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		batch := s.durableBatch()
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-s.outbox:
			case <-tick.C:
			}
			continue
		}
		envs := make([]events.Envelope, 0, len(batch))
		for _, e := range batch {
			env, err := events.NewStateChanged(s.opts.Source, e.sc)
			if err != nil {
				s.log.Error("dropping unencodable transition", "id", e.sc.ID(), "err", err)
				continue
			}
			envs = append(envs, env)
		}
		if err := pub.Publish(ctx, envs...); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.log.Warn("outbox publish failed; retrying", "err", err, "transitions", len(envs))
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(relayBackoff):
			}
			continue
		}
		s.ack(batch)
	}
}

// durableBatch is the oldest outbox entries already on disk.
func (s *Store) durableBatch() []outboxEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []outboxEntry
	for _, e := range s.st.out {
		if e.seq > s.st.durableOutbox || len(out) == relayBatch {
			break
		}
		out = append(out, e)
	}
	return out
}

// ack removes published entries from the outbox.
func (s *Store) ack(batch []outboxEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	done := map[uint64]bool{}
	for _, e := range batch {
		done[e.seq] = true
		s.pd.outDel = append(s.pd.outDel, e.seq)
	}
	kept := s.st.out[:0]
	for _, e := range s.st.out {
		if !done[e.seq] {
			kept = append(kept, e)
		}
	}
	s.st.out = kept
}

// OutboxLen is the number of transitions not yet published.
func (s *Store) OutboxLen(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.st.out)), nil
}
