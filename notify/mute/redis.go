package mute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// casScript replaces a hash field only if it still holds the value read:
// KEYS[1] hash, ARGV field, old value, new value. Returns 1 when replaced,
// 0 when the field changed meanwhile, -1 when it is gone.
var casScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return -1 end
if cur ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return 1
`)

// casAttempts bounds the retries of ExpireSilence under contention.
const casAttempts = 10

// RedisStore is the Store of a fleet: three hashes under a key prefix (see
// the package documentation). It is safe for concurrent use.
type RedisStore struct {
	rdb                     redis.UniversalClient
	silences, windows, acks string
}

// NewRedisStore returns a store on rdb under key prefix.
func NewRedisStore(rdb redis.UniversalClient, prefix string) *RedisStore {
	p := prefix + ":mute:"
	return &RedisStore{rdb: rdb, silences: p + "silences", windows: p + "windows", acks: p + "acks"}
}

// PutSilence stores s under s.ID (Status is not kept).
func (r *RedisStore) PutSilence(ctx context.Context, s Silence) error {
	s.Status = ""
	return r.put(ctx, r.silences, s.ID, s)
}

// Silences returns every silence, expired ones included.
func (r *RedisStore) Silences(ctx context.Context) ([]Silence, error) {
	return all[Silence](ctx, r.rdb, r.silences)
}

// ExpireSilence sets the silence's EndsAt to now if it was later, with a
// compare-and-set so that a concurrent update is not lost.
func (r *RedisStore) ExpireSilence(ctx context.Context, id string, now time.Time) (Silence, error) {
	for range casAttempts {
		old, err := r.rdb.HGet(ctx, r.silences, id).Result()
		if errors.Is(err, redis.Nil) {
			return Silence{}, ErrNotFound
		}
		if err != nil {
			return Silence{}, fmt.Errorf("mute: expire silence: %w", err)
		}
		var s Silence
		if err := json.Unmarshal([]byte(old), &s); err != nil {
			return Silence{}, fmt.Errorf("mute: silence %s: %w", id, err)
		}
		s, changed := expire(s, now)
		s.Status = s.StatusAt(now)
		if !changed {
			return s, nil
		}
		stored := s
		stored.Status = ""
		b, err := json.Marshal(stored)
		if err != nil {
			return Silence{}, err
		}
		n, err := casScript.Run(ctx, r.rdb, []string{r.silences}, id, old, b).Int()
		if err != nil {
			return Silence{}, fmt.Errorf("mute: expire silence: %w", err)
		}
		switch n {
		case 1:
			return s, nil
		case -1:
			return Silence{}, ErrNotFound
		}
	}
	return Silence{}, fmt.Errorf("mute: expire silence %s: too much contention", id)
}

// PutWindow stores w under w.ID.
func (r *RedisStore) PutWindow(ctx context.Context, w Window) error {
	return r.put(ctx, r.windows, w.ID, w)
}

// Windows returns every stored window.
func (r *RedisStore) Windows(ctx context.Context) ([]Window, error) {
	return all[Window](ctx, r.rdb, r.windows)
}

// DeleteWindow removes a window; ErrNotFound when unknown.
func (r *RedisStore) DeleteWindow(ctx context.Context, id string) error {
	return r.del(ctx, r.windows, id)
}

// PutAck stores a under a.AlertID.
func (r *RedisStore) PutAck(ctx context.Context, a Ack) error {
	return r.put(ctx, r.acks, a.AlertID, a)
}

// DeleteAck removes the ack of alertID; ErrNotFound when not acked.
func (r *RedisStore) DeleteAck(ctx context.Context, alertID string) error {
	return r.del(ctx, r.acks, alertID)
}

// Acks returns every ack by alert id.
func (r *RedisStore) Acks(ctx context.Context) (map[string]Ack, error) {
	return byAlert(all[Ack](ctx, r.rdb, r.acks))
}

func (r *RedisStore) put(ctx context.Context, key, id string, v any) error {
	if id == "" {
		return fmt.Errorf("mute: put: empty id")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("mute: put: %w", err)
	}
	if err := r.rdb.HSet(ctx, key, id, b).Err(); err != nil {
		return fmt.Errorf("mute: put: %w", err)
	}
	return nil
}

func (r *RedisStore) del(ctx context.Context, key, id string) error {
	n, err := r.rdb.HDel(ctx, key, id).Result()
	if err != nil {
		return fmt.Errorf("mute: delete: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// all decodes every value of hash key, sorted by field.
func all[T any](ctx context.Context, rdb redis.UniversalClient, key string) ([]T, error) {
	m, err := rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("mute: read %s: %w", key, err)
	}
	return decodeAll[T](m)
}
