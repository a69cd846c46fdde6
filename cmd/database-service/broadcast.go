package main

import (
	"context"
	"slices"
	"sync"

	"github.com/dbhealth/database-service/events"
)

// broadcaster fans the events this replica receives on its per-replica
// queue out to the SSE subscribers of the API. A slow subscriber loses
// events rather than slowing the others.
type broadcaster struct {
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	types []string
	ch    chan events.Envelope
}

func newBroadcaster() *broadcaster { return &broadcaster{subs: map[*subscriber]struct{}{}} }

// handle is the bus handler of the per-replica "live" group.
func (b *broadcaster) handle(_ context.Context, e events.Envelope) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if len(s.types) > 0 && !slices.Contains(s.types, e.Type) {
			continue
		}
		select {
		case s.ch <- e:
		default: // full: drop for this subscriber only
		}
	}
	return nil
}

// Subscribe implements api.EventStream.
func (b *broadcaster) Subscribe(ctx context.Context, types []string) (<-chan events.Envelope, func(), error) {
	s := &subscriber{types: types, ch: make(chan events.Envelope, 256)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			close(s.ch)
			b.mu.Unlock()
		})
	}
	go func() { <-ctx.Done(); cancel() }()
	return s.ch, cancel, nil
}
