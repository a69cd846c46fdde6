package projections

import (
	"fmt"
	"slices"
)

// queue is what every handler group has as a consumer: the name of its
// consumer group (queue) and the routing keys the queue binds.
type queue struct {
	name     string
	bindings []string
}

// Name is the consumer group (queue) name of the projection.
func (q queue) Name() string { return q.name }

// Bindings are the routing keys the group's queue binds.
func (q queue) Bindings() []string { return slices.Clone(q.bindings) }

// handlerGroup is the shape of every handler group: its queue and the
// store it writes to.
type handlerGroup[S any] interface {
	~struct {
		queue
		store S
	}
}

// newGroup returns the handler group G named name, its queue bound to
// bindings, writing to store; a nil store is an error.
func newGroup[G handlerGroup[S], S any](name string, store S, bindings ...string) (*G, error) {
	if any(store) == nil {
		return nil, fmt.Errorf("projections: %s: nil store", name)
	}
	return &G{queue: queue{name: name, bindings: bindings}, store: store}, nil
}
