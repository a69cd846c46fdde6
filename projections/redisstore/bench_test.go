package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/cputime"
	"github.com/dbhealth/database-service/testsupport/redistest"
)

// BenchmarkStatuses reads the status of every target (Statuses) and of
// one kind (StatusesOf) with 6 and with 1000 targets, from the machine's
// Redis. Besides wall time it reports cpu-ns/op, the
// CPU this process spent per read, which does not depend on how busy the
// machine is.
func BenchmarkStatuses(b *testing.B) {
	kinds := []string{"postgres", "elasticsearch", "milvus", "redis", "nacos", "rabbitmq"}
	{
		for _, n := range []int{6, 1000} {
			b.Run(fmt.Sprintf("redis/%d", n), func(b *testing.B) {
				store := open(b, redistest.Machine(b), Options{})
				ctx := context.Background()
				at := time.Now().UnixMilli()
				for i := range n {
					t := events.TargetRef{Type: kinds[i%len(kinds)], Name: fmt.Sprintf("target-%04d", i)}
					sc := events.StateChanged{Target: t, From: "UNKNOWN", To: "UP", Seq: 1, Epoch: 1, At: time.UnixMilli(at),
						Check: events.HealthChecked{Target: t, State: "UP", Slot: at, CheckedAt: time.UnixMilli(at)}}
					sc.Check.Details = json.RawMessage(`{"version":"16.1","connections":12,"max_connections":100,"in_recovery":false}`)
					if err := store.PutTransition(ctx, sc); err != nil {
						b.Fatal(err)
					}
				}
				b.Run("all", func(b *testing.B) {
					b.ReportAllocs()
					defer reportCPU(b)()
					for b.Loop() {
						st, err := store.Statuses(ctx)
						if err != nil || len(st) != n {
							b.Fatalf("%d statuses, %v", len(st), err)
						}
					}
				})
				b.Run("kind", func(b *testing.B) {
					b.ReportAllocs()
					defer reportCPU(b)()
					for b.Loop() {
						if _, err := store.StatusesOf(ctx, "postgres"); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("all-parallel", func(b *testing.B) {
					b.ReportAllocs()
					defer reportCPU(b)()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, err := store.Statuses(ctx); err != nil {
								b.Error(err)
								return
							}
						}
					})
				})
			})
		}
	}
}

// reportCPU starts measuring process CPU time; the returned function
// reports it per operation as cpu-ns/op.
func reportCPU(b *testing.B) func() {
	start := cputime.Process()
	return func() {
		if b.N > 0 && start > 0 {
			b.ReportMetric(float64(cputime.Process()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
