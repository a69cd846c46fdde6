package redisstore

import (
	"context"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/projections/storetest"
	"github.com/dbhealth/database-service/testsupport/redistest"
)

// open returns a Store under a fresh key prefix, deleted after the test.
func open(t testing.TB, rdb redis.UniversalClient, opts Options) *Store {
	t.Helper()
	opts.Prefix = redistest.Prefix(t, rdb, "test-proj")
	s, err := New(rdb, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestContract runs the read-model store contract on the machine's Redis.
func TestContract(t *testing.T) {
	rdb := redistest.Machine(t)
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
