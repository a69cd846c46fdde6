package coord

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/config/secret"
)

// Store is an open connection to the shared store.
type Store struct {
	// Client talks to the store.
	Client redis.UniversalClient
	// Embedded is true when the store is an in-process miniredis.
	Embedded bool
	mini     *miniredis.Miniredis
}

// OpenStore connects to the Redis at url (redis:// or rediss://), or, with
// an empty url, starts an embedded in-process Redis whose TTLs follow the
// wall clock. It checks the connection with a PING bounded by ctx.
func OpenStore(ctx context.Context, url secret.String) (*Store, error) {
	if !url.IsSet() {
		m := miniredis.NewMiniRedis()
		m.ClockTTL(true)
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("coord: start embedded redis: %w", err)
		}
		c := redis.NewClient(&redis.Options{Addr: m.Addr(), PoolSize: 32})
		return &Store{Client: c, Embedded: true, mini: m}, nil
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

// Close closes the client and stops an embedded server.
func (s *Store) Close() error {
	err := s.Client.Close()
	if s.mini != nil {
		s.mini.Close()
	}
	return err
}
