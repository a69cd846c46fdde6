package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/projections/storetest"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// machineRedis is a client of the machine's Redis; the test is skipped
// under -short.
func machineRedis(t testing.TB) redis.UniversalClient {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the machine's Redis")
	}
	rdb := redis.NewClient(&redis.Options{Addr: servers.MachineRedis().Addr()})
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis: %v", err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// open returns a Store under a fresh key prefix, deleted after the test.
func open(t testing.TB, rdb redis.UniversalClient, opts Options) *Store {
	t.Helper()
	opts.Prefix = fmt.Sprintf("test-proj-%d", rand.Int64())
	t.Cleanup(func() { deleteKeys(context.Background(), rdb, opts.Prefix) })
	s, err := New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// deleteKeys deletes every key under prefix (SCAN, never FLUSH).
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) {
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

// TestContract runs the read-model store contract on the machine's Redis.
func TestContract(t *testing.T) {
	rdb := machineRedis(t)
	storetest.Run(t, storetest.Backend{
		Name: "redis",
		Open: func(t testing.TB, o storetest.Options) storetest.Store {
			return open(t, rdb, Options{HistoryMaxEntries: o.HistoryMaxEntries, HistoryRetention: o.HistoryRetention,
				AlertRetention: o.AlertRetention, Now: o.Now})
		},
		HistoryLen: func(s storetest.Store, kind, name string) int {
			return int(rdb.XLen(context.Background(), s.(*Store).k.hist(kind, name)).Val())
		},
		// MAXLEN ~ and MINID ~ trim whole stream nodes (up to 100 entries).
		TrimSlack: 100,
		RollupHours: func(s storetest.Store, kind, name string) []int64 {
			var out []int64
			for _, f := range rdb.HKeys(context.Background(), s.(*Store).k.roll(kind, name)).Val() {
				if h, err := strconv.ParseInt(f, 10, 64); err == nil {
					out = append(out, h)
				}
			}
			return out
		},
		AlertKept: func(s storetest.Store, id, kind, name string) bool {
			a := s.(*Store).k.alerts()
			return rdb.Exists(context.Background(), a+":a:"+id, a+":log:"+kind+"/"+name+":1").Val() != 0
		},
	})
}
