package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
)

// benchStatuses makes n targets spread over the six kinds.
func benchStatuses(n int) []projections.TargetStatus {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	out := make([]projections.TargetStatus, n)
	for i := range out {
		k := probes.Kinds[i%len(probes.Kinds)]
		out[i] = projections.TargetStatus{
			Type: string(k), Name: fmt.Sprintf("%s-%04d", k, i), State: "UP", Since: &at, CheckedAt: &at,
			LatencyMS: 1.25, Details: map[string]any{"version": "7.0.15", "connected_clients": 12, "role": "master"},
			Prober: "replica-a",
		}
	}
	return out
}

// BenchmarkStatusHTTP measures GET /api/database/status and
// /status/{database_type} through the whole stack (loopback TCP, echo,
// middleware, access log to a discarding handler, metrics) under
// concurrent keep-alive clients, and reports req/s and latency
// percentiles. Run: go test -run '^$' -bench StatusHTTP -benchtime 200000x ./api/
func BenchmarkStatusHTTP(b *testing.B) {
	for _, targets := range []int{6, 1000} {
		for _, path := range []string{"/api/database/status", "/api/database/status/postgres"} {
			for _, ttl := range []time.Duration{api.DefaultStatusCacheTTL, -1} {
				name := fmt.Sprintf("targets=%d/path=%s/cache=%v", targets, path, ttl > 0)
				b.Run(name, func(b *testing.B) { benchHTTP(b, targets, path, ttl, 32) })
			}
		}
	}
}

func benchHTTP(b *testing.B, targets int, path string, ttl time.Duration, workers int) {
	statuses := benchStatuses(targets)
	reader := api.StatusReaderFunc(func(context.Context) ([]projections.TargetStatus, error) { return statuses, nil })
	s, err := api.New(api.Deps{Status: reader}, api.Options{
		Logger:         slog.New(slog.DiscardHandler),
		StatusCacheTTL: ttl,
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := srv.URL + path

	// Warm the connections and the cache.
	for range workers {
		res, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
	}

	var next atomic.Int64
	lat := make([][]time.Duration, workers)
	var failures atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			mine := make([]time.Duration, 0, b.N/workers+1)
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				res, err := client.Get(url)
				if err != nil {
					failures.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					failures.Add(1)
				}
				mine = append(mine, time.Since(t0))
			}
			lat[w] = mine
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if f := failures.Load(); f > 0 {
		b.Fatalf("%d failed requests", f)
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkStatusHandler measures the server side alone (no network): the
// echo stack, middleware and handler, per request.
func BenchmarkStatusHandler(b *testing.B) {
	for _, targets := range []int{6, 1000} {
		for _, ttl := range []time.Duration{api.DefaultStatusCacheTTL, -1} {
			b.Run(fmt.Sprintf("targets=%d/cache=%v", targets, ttl > 0), func(b *testing.B) {
				statuses := benchStatuses(targets)
				reader := api.StatusReaderFunc(func(context.Context) ([]projections.TargetStatus, error) { return statuses, nil })
				s, err := api.New(api.Deps{Status: reader}, api.Options{Logger: slog.New(slog.DiscardHandler), StatusCacheTTL: ttl})
				if err != nil {
					b.Fatal(err)
				}
				h := s.Handler()
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req := httptest.NewRequest(http.MethodGet, "/api/database/status", nil)
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, req)
						if rec.Code != http.StatusOK {
							b.Errorf("status %d", rec.Code)
						}
					}
				})
			})
		}
	}
}
