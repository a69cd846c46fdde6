package redisstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
)

// BenchmarkStatuses reads the status of every target (Statuses) and of
// one kind (StatusesOf) with 6 and with 1000 targets, from the machine's
// Redis and from miniredis. Besides wall time it reports cpu-ns/op, the
// CPU this process spent per read (with miniredis, the server's share
// included), which does not depend on how busy the machine is.
func BenchmarkStatuses(b *testing.B) {
	kinds := []string{"postgres", "elasticsearch", "milvus", "redis", "nacos", "rabbitmq"}
	for _, be := range backends {
		for _, n := range []int{6, 1000} {
			b.Run(fmt.Sprintf("%s/%d", be.name, n), func(b *testing.B) {
				rdb, prefix := be.open(b)
				fx := newFixture(b, rdb, prefix(), Options{})
				ctx := context.Background()
				at := time.Now().UnixMilli()
				for i := range n {
					t := events.TargetRef{Type: kinds[i%len(kinds)], Name: fmt.Sprintf("target-%04d", i)}
					sc := changed(t, 1, 1, "UNKNOWN", "UP", at)
					sc.Check.Details = map[string]any{"version": "16.1", "connections": 12, "max_connections": 100, "in_recovery": false}
					if err := fx.store.PutTransition(ctx, sc); err != nil {
						b.Fatal(err)
					}
				}
				b.Run("all", func(b *testing.B) {
					b.ReportAllocs()
					defer reportCPU(b)()
					for b.Loop() {
						st, err := fx.store.Statuses(ctx)
						if err != nil || len(st) != n {
							b.Fatalf("%d statuses, %v", len(st), err)
						}
					}
				})
				b.Run("kind", func(b *testing.B) {
					b.ReportAllocs()
					defer reportCPU(b)()
					for b.Loop() {
						if _, err := fx.store.StatusesOf(ctx, "postgres"); err != nil {
							b.Fatal(err)
						}
					}
				})
				b.Run("all-parallel", func(b *testing.B) {
					b.ReportAllocs()
					defer reportCPU(b)()
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if _, err := fx.store.Statuses(ctx); err != nil {
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
	start := cpuTime()
	return func() {
		if b.N > 0 && start > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
