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
	url    secret.String
	addr   string
}

// ErrNoURL is returned by OpenStore without a URL: standalone mode uses
// the embedded store (projections/localstore) instead.
var ErrNoURL = errors.New("coord: STORE_URL is empty")

// OpenStore returns a client of the Redis at url (redis:// or rediss://).
// A store that is down is not an error: the client connects when it
// answers, and Ping (readiness) says so meanwhile; a malformed URL is.
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
	return &Store{Client: c, url: url, addr: opts.Addr}, nil
}

// Ping checks the store is reachable; the error never holds the URL's
// password.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.Client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("coord: store %s unreachable: %s", s.addr, secret.Scrub(err.Error(), s.url))
	}
	return nil
}

// Close closes the client.
func (s *Store) Close() error { return s.Client.Close() }
