package api_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/testsupport/cputime"
)

// benchStatuses makes n targets spread over the six kinds.
func benchStatuses(n int) []projections.TargetStatus {
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	out := make([]projections.TargetStatus, n)
	for i := range out {
		k := events.Kinds[i%len(events.Kinds)]
		out[i] = projections.TargetStatus{
			Type: string(k), Name: fmt.Sprintf("%s-%04d", k, i), State: "UP", Since: &at, CheckedAt: &at,
			LatencyMS: 1.25, Details: rawJSON(map[string]any{"version": "7.0.15", "connected_clients": 12, "role": "master"}),
			Prober: "replica-a",
		}
	}
	return out
}

// BenchmarkStatusHTTP measures GET /api/database/status and
// /status/{database_type} through the whole stack (loopback TCP, net/http
// server, echo, middleware, access log to a discarding handler, metrics)
// under 16 (-workers) concurrent keep-alive connections, and reports req/s, latency
// percentiles and CPU per request. The load comes from a minimal HTTP/1.1
// client (like wrk: one connection per worker, one write and one read per
// request) so that the client's own cost does not dominate on 2 cores;
// client=nethttp repeats a case with net/http's client for reference.
//
//	go test -run '^$' -bench StatusHTTP -benchtime 200000x ./api/
func BenchmarkStatusHTTP(b *testing.B) {
	paths := []struct{ name, path string }{
		{"all", "/api/database/status"},
		{"kind", "/api/database/status/postgres"},
	}
	for _, targets := range []int{6, 1000} {
		for _, p := range paths {
			for _, ttl := range []time.Duration{api.DefaultStatusCacheTTL, -1} {
				name := fmt.Sprintf("targets=%d/status=%s/cache=%v", targets, p.name, ttl > 0)
				b.Run(name, func(b *testing.B) { benchHTTP(b, targets, p.path, ttl, *benchWorkers, rawGet) })
			}
		}
	}
	b.Run("targets=6/status=all/cache=true/client=nethttp", func(b *testing.B) {
		benchHTTP(b, 6, "/api/database/status", api.DefaultStatusCacheTTL, *benchWorkers, nil)
	})
}

// benchWorkers is the number of concurrent connections of the HTTP
// benchmark (-workers=N).
var benchWorkers = flag.Int("workers", 16, "concurrent connections of BenchmarkStatusHTTP")

// getter sends one GET on a worker's connection and returns the status.
type getter func(w *rawConn) (int, error)

// rawConn is one keep-alive HTTP/1.1 connection.
type rawConn struct {
	c   net.Conn
	r   *bufio.Reader
	req []byte
}

// rawGet writes the request and reads one response (Content-Length or
// chunked body).
func rawGet(w *rawConn) (int, error) {
	if _, err := w.c.Write(w.req); err != nil {
		return 0, err
	}
	line, err := w.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, err
	}
	length, chunked := -1, false
	for {
		h, err := w.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(h) <= 2 {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSpace(string(h)), ":")
		switch strings.ToLower(k) {
		case "content-length":
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		case "transfer-encoding":
			chunked = strings.Contains(v, "chunked")
		}
	}
	if !chunked {
		_, err = w.r.Discard(length)
		return status, err
	}
	for {
		h, err := w.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(h)), 16, 64)
		if err != nil {
			return 0, err
		}
		if _, err := w.r.Discard(int(n) + 2); err != nil {
			return 0, err
		}
		if n == 0 {
			return status, nil
		}
	}
}

func benchHTTP(b *testing.B, targets int, path string, ttl time.Duration, workers int, get getter) {
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
	if get == nil {
		get = netHTTPGetter(srv.URL+path, workers)
	}
	conns := make([]*rawConn, workers)
	for i := range conns {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = &rawConn{c: c, r: bufio.NewReaderSize(c, 64<<10),
			req: []byte("GET " + path + " HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\n\r\n")}
		if st, err := get(conns[i]); err != nil || st != http.StatusOK { // warm connection and cache
			b.Fatalf("warm-up: %d %v", st, err)
		}
	}

	var next atomic.Int64
	lat := make([][]time.Duration, workers)
	var failures atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cputime.Process()
	start := time.Now()
	for w := range workers {
		wg.Go(func() {
			mine := make([]time.Duration, 0, b.N/workers+1)
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				st, err := get(conns[w])
				if err != nil || st != http.StatusOK {
					failures.Add(1)
					if err != nil {
						return
					}
				}
				mine = append(mine, time.Since(t0))
			}
			lat[w] = mine
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cputime.Process() - cpu0
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
	// CPU (client and server together) per request: what bounds req/s on
	// an idle machine (2 cores: capacity ~ 2s / cpu per request).
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu_us/req")
	b.ReportMetric(0, "ns/op")
}

// netHTTPGetter sends GETs with net/http's client instead of the raw
// connections.
func netHTTPGetter(url string, workers int) getter {
	tr := &http.Transport{MaxIdleConnsPerHost: workers, MaxConnsPerHost: workers, DisableCompression: true}
	client := &http.Client{Transport: tr}
	return func(*rawConn) (int, error) {
		res, err := client.Get(url)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode, nil
	}
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
