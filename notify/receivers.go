package notify

import (
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"
)

// Receivers is the registry of the built receivers, by name, and of the
// ones disabled because they answered 410 Gone. It is safe for concurrent
// use. The Worker shares a 410 through its GoneStore: the replica that
// sees it marks the receiver gone in the store, and the others Adopt the
// mark on their next sweep.
type Receivers struct {
	all []Receiver

	mu       sync.Mutex
	byName   map[string]Receiver
	disabled map[string]string // name -> reason
}

// NewReceivers returns the registry of rs (names must be unique, as
// Config.Build ensures).
func NewReceivers(rs []Receiver) (*Receivers, error) {
	r := &Receivers{all: rs, byName: map[string]Receiver{}, disabled: map[string]string{}}
	for _, x := range rs {
		if x.Sender == nil {
			return nil, fmt.Errorf("notify: receiver %q without sender", x.Name)
		}
		if _, dup := r.byName[x.Name]; dup {
			return nil, errors.New("notify: duplicate receiver " + x.Name)
		}
		r.byName[x.Name] = x
	}
	return r, nil
}

// All lists every receiver, disabled ones included, in configuration
// order.
func (r *Receivers) All() []Receiver { return r.all }

// Get returns the receiver named name.
func (r *Receivers) Get(name string) (Receiver, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	x, ok := r.byName[name]
	return x, ok
}

// Disable marks receiver name disabled for reason and returns its mark
// for the other replicas.
func (r *Receivers) Disable(name, reason string, at time.Time) GoneMark {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.disabled[name] = reason
	return GoneMark{Fingerprint: r.byName[name].Fingerprint, Reason: reason, At: at}
}

// DisabledReason reports whether receiver name is disabled, and why.
func (r *Receivers) DisabledReason(name string) (reason string, disabled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	reason, disabled = r.disabled[name]
	return reason, disabled
}

// Disabled returns the disabled receivers with their reasons (for the
// API and readiness).
func (r *Receivers) Disabled() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.disabled)
}
