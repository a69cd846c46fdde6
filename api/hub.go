package api

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dbhealth/database-service/events"
)

// Hub is the EventStream of a replica: it fans the events the replica
// receives on its own queue out to the SSE subscribers. A slow subscriber
// loses events rather than slowing the others. HealthChecked events (one
// per check) reach the replica only while a subscriber wants them:
// BindChecked is told when that starts and stops.
type Hub struct {
	mu      sync.Mutex
	subs    map[*hubSub]struct{}
	checked int // subscribers that want HealthChecked
	changed chan struct{}
}

type hubSub struct {
	types []string
	ch    chan events.Envelope
}

// NewHub returns a hub without subscribers.
func NewHub() *Hub {
	return &Hub{subs: map[*hubSub]struct{}{}, changed: make(chan struct{}, 1)}
}

// Handle delivers e to the subscribers that want its type; it is the bus
// handler of the replica's own queue.
func (h *Hub) Handle(_ context.Context, e events.Envelope) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
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

// WantsChecked reports whether a subscriber wants HealthChecked events.
func (h *Hub) WantsChecked() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.checked > 0
}

// Subscribe implements EventStream.
func (h *Hub) Subscribe(ctx context.Context, types []string) (<-chan events.Envelope, func(), error) {
	s := &hubSub{types: types, ch: make(chan events.Envelope, 256)}
	checked := len(types) == 0 || slices.Contains(types, events.TypeHealthChecked)
	h.mu.Lock()
	h.subs[s] = struct{}{}
	if checked {
		h.checked++
	}
	h.mu.Unlock()
	h.notify()
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs, s)
			close(s.ch)
			if checked {
				h.checked--
			}
			h.mu.Unlock()
			h.notify()
		})
	}
	go func() { <-ctx.Done(); cancel() }()
	return s.ch, cancel, nil
}

func (h *Hub) notify() {
	select {
	case h.changed <- struct{}{}:
	default:
	}
}

// BindChecked keeps the replica's binding of HealthChecked in line with
// WantsChecked until ctx ends; bind applies one change, logErr reports a
// failed one (tried again a second later).
func (h *Hub) BindChecked(ctx context.Context, bind func(ctx context.Context, on bool) error, logErr func(error)) error {
	bound := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.changed:
		}
		if want := h.WantsChecked(); want != bound {
			if err := bind(ctx, want); err != nil {
				logErr(err)
				time.AfterFunc(time.Second, h.notify) // try again
				continue
			}
			bound = want
		}
	}
}
