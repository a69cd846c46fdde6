// Package redistest gives tests the machine's Redis and key prefixes of
// their own on it, deleted when the test ends.
package redistest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/testsupport/servers"
)

// Machine is a client of the machine's Redis ($TEST_REDIS_ADDR overrides),
// closed when the test ends. The test is skipped under -short and fails
// when Redis does not answer.
func Machine(t testing.TB) *redis.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the machine's Redis")
	}
	rdb := redis.NewClient(&redis.Options{Addr: servers.MachineRedis().Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	return rdb
}

// Prefix is a fresh key prefix, name-<random>, whose keys are deleted
// when the test ends (before a client from Machine is closed).
func Prefix(t testing.TB, rdb redis.UniversalClient, name string) string {
	prefix := fmt.Sprintf("%s-%d", name, rand.Int64())
	t.Cleanup(func() { DeleteKeys(context.Background(), rdb, prefix) })
	return prefix
}

// DeleteKeys deletes every key under prefix (SCAN, never FLUSH).
func DeleteKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+":*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			rdb.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Del(ctx, batch...)
	}
}
