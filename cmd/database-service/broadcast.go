package main

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dbhealth/database-service/events"
)

// broadcaster fans the events this replica receives on its per-replica
// queue out to the SSE subscribers of the API. A slow subscriber loses
// events rather than slowing the others. HealthChecked events (one per
// check) reach the replica only while a subscriber wants them: bind is
// told when that starts and stops.
type broadcaster struct {
	mu      sync.Mutex
	subs    map[*subscriber]struct{}
	checked int // subscribers that want HealthChecked
	changed chan struct{}
}

type subscriber struct {
	types []string
	ch    chan events.Envelope
}

func newBroadcaster() *broadcaster {
	return &broadcaster{subs: map[*subscriber]struct{}{}, changed: make(chan struct{}, 1)}
}

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

// wantsChecked reports whether a subscriber wants HealthChecked events.
func (b *broadcaster) wantsChecked() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.checked > 0
}

// Subscribe implements api.EventStream.
func (b *broadcaster) Subscribe(ctx context.Context, types []string) (<-chan events.Envelope, func(), error) {
	s := &subscriber{types: types, ch: make(chan events.Envelope, 256)}
	checked := len(types) == 0 || slices.Contains(types, events.TypeHealthChecked)
	b.mu.Lock()
	b.subs[s] = struct{}{}
	if checked {
		b.checked++
	}
	b.mu.Unlock()
	b.notify()
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			b.mu.Lock()
			delete(b.subs, s)
			close(s.ch)
			if checked {
				b.checked--
			}
			b.mu.Unlock()
			b.notify()
		})
	}
	go func() { <-ctx.Done(); cancel() }()
	return s.ch, cancel, nil
}

func (b *broadcaster) notify() {
	select {
	case b.changed <- struct{}{}:
	default:
	}
}

// bindChecked keeps the replica's binding of HealthChecked in line with
// wantsChecked until ctx ends; bind applies one change.
func (b *broadcaster) bindChecked(ctx context.Context, bind func(ctx context.Context, on bool) error, logErr func(error)) error {
	bound := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-b.changed:
		}
		if want := b.wantsChecked(); want != bound {
			if err := bind(ctx, want); err != nil {
				logErr(err)
				time.AfterFunc(time.Second, b.notify) // try again
				continue
			}
			bound = want
		}
	}
}
