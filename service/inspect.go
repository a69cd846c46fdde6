package service

import (
	"context"

	"github.com/dbhealth/database-service/config"
)

// Config is the configuration the replica runs with.
func (a *Replica) Config() *config.Config { return a.cfg }

// WaitBus blocks until the bus has connected and declared its topology, or
// ctx ends. The bus connects in the background; a caller that binds to the
// exchange right away waits for it first.
func (a *Replica) WaitBus(ctx context.Context) error { return a.bus.WaitConnected(ctx) }

// RelayPendingOf reports how many transitions the named replica holds
// unpublished in the shared outbox (-1 when the store cannot tell, or in
// the embedded store, which has no shared relay).
func (a *Replica) RelayPendingOf(ctx context.Context, replica string) int64 {
	if a.store.SharedRelay == nil {
		return -1
	}
	n, err := a.store.SharedRelay.PendingOf(ctx, replica)
	if err != nil {
		return -1
	}
	return n
}
