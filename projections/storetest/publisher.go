package storetest

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/dbhealth/database-service/events"
)

// Publisher is the bus a store's outbox relay publishes to, in the tests
// of the coordinator stores (Redis and embedded): it records the ids of
// the envelopes published, and fails while it is set failing. The zero
// value publishes.
type Publisher struct {
	mu      sync.Mutex
	failing bool
	ids     []string
}

// FailingPublisher returns a Publisher that fails until SetFailing(false).
func FailingPublisher() *Publisher { return &Publisher{failing: true} }

// SetFailing makes Publish fail (true) or record (false).
func (p *Publisher) SetFailing(failing bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing = failing
}

// Publish records the ids of envs, or fails while failing.
func (p *Publisher) Publish(_ context.Context, envs ...events.Envelope) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failing {
		return errors.New("storetest: publisher down")
	}
	for _, e := range envs {
		p.ids = append(p.ids, e.ID)
	}
	return nil
}

// IDs are the ids published so far, in order, redeliveries included.
func (p *Publisher) IDs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ids)
}

// Counts is how many times each id was published.
func (p *Publisher) Counts() map[string]int {
	seen := map[string]int{}
	for _, id := range p.IDs() {
		seen[id]++
	}
	return seen
}
