package coord

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/config/secret"
)

// Store is an open connection to the shared store.
type Store struct {
	// Client talks to the store.
	Client redis.UniversalClient
}

// ErrNoURL is returned by OpenStore without a URL: standalone mode uses
// the embedded store (projections/localstore) instead.
var ErrNoURL = errors.New("coord: STORE_URL is empty")

// OpenStore connects to the Redis at url (redis:// or rediss://). It
// checks the connection with a PING bounded by ctx.
func OpenStore(ctx context.Context, url secret.String) (*Store, error) {
	if !url.IsSet() {
		return nil, ErrNoURL
	}
	opts, err := redis.ParseURL(url.Reveal())
	if err != nil {
		return nil, fmt.Errorf("coord: STORE_URL: %s", secret.Scrub(err.Error(), url))
	}
	opts.ReadTimeout = 3 * time.Second
	opts.WriteTimeout = 3 * time.Second
	c := redis.NewClient(opts)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := c.Ping(pctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("coord: store %s unreachable: %s", opts.Addr, secret.Scrub(err.Error(), url))
	}
	return &Store{Client: c}, nil
}

// Ping checks the store is reachable.
func (s *Store) Ping(ctx context.Context) error { return s.Client.Ping(ctx).Err() }

// Close closes the client.
func (s *Store) Close() error { return s.Client.Close() }
