package coord

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/cputime"
	"github.com/dbhealth/database-service/testsupport/redistest"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// BenchmarkClaimApply measures the coordination cost of one tick on the
// machine's Redis: one claim round trip for a batch of due targets, then
// one pipelined apply of their results. Reported per check: throughput,
// wall time, and the CPU this process (the replica side) spends.
func BenchmarkClaimApply(b *testing.B) {
	for _, batch := range []int{1, 16, 64, 256} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			rdb := redis.NewClient(&redis.Options{Addr: servers.MachineRedis().Addr()})
			ctx := context.Background()
			if err := rdb.Ping(ctx).Err(); err != nil {
				b.Skip("needs the machine's Redis")
			}
			b.Cleanup(func() { _ = rdb.Close() })
			prefix := redistest.Prefix(b, rdb, "bench-coord")
			c := NewClaimer(rdb, prefix, "bench")
			a := NewApplier(rdb, prefix, "bench", "/bench", nil, nil, nil)
			due := make([]probes.Due, batch)
			for i := range due {
				due[i] = probes.Due{Target: target(fmt.Sprint("t", i)), Trigger: probes.TriggerRetry, Step: time.Second}
			}
			checks := make([]probes.Check, batch)
			b.ResetTimer()
			cpu0 := cputime.Process()
			for i := 0; i < b.N; i++ {
				claims, err := c.Claim(ctx, due)
				if err != nil {
					b.Fatal(err)
				}
				for j := range checks {
					checks[j] = check(due[j].Target, probes.StateUp, claims[j].Slot+int64(i))
				}
				if _, err := a.Apply(ctx, checks); err != nil {
					b.Fatal(err)
				}
			}
			cpu := cputime.Process() - cpu0
			elapsed := b.Elapsed()
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*batch)/1000, "client-cpu-µs/check")
			b.ReportMetric(float64(b.N*batch)/elapsed.Seconds(), "checks/s")
			b.ReportMetric(float64(elapsed.Nanoseconds())/float64(b.N*batch), "ns/check")
		})
	}
}
