package api_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/projections"
)

func withCacheTTL(ttl time.Duration) option {
	return func(o *api.Options, _ *api.Deps) { o.StatusCacheTTL = ttl }
}

func TestStatusCacheDisabled(t *testing.T) {
	e := newEnv(t, withCacheTTL(-1))
	for range 3 {
		e.get("/api/database/status")
	}
	if n := e.fakes.statusCalls.Load(); n != 3 {
		t.Errorf("reads = %d, want 3 (no caching)", n)
	}
}

func TestStatusCacheTTL(t *testing.T) {
	e := newEnv(t, withCacheTTL(time.Second))
	e.get("/api/database/status")
	e.get("/api/database/status/postgres")
	e.get("/api/database/health")
	if n := e.fakes.statusCalls.Load(); n != 1 {
		t.Fatalf("reads within the TTL = %d, want 1", n)
	}
	// A change shows once the TTL has passed, never later.
	e.fakes.setStatuses([]projections.TargetStatus{{Type: "redis", Name: "cache", State: "DOWN"}}, nil)
	e.fakes.clock.Advance(999 * time.Millisecond)
	var body api.StatusResponse
	mustDecode(t, e.get("/api/database/status").Body, &body)
	if len(body.Databases) != 7 {
		t.Fatalf("within the TTL the cached read must serve: %+v", body)
	}
	e.fakes.clock.Advance(time.Millisecond)
	mustDecode(t, e.get("/api/database/status").Body, &body)
	if body.Overall != "DOWN" || len(body.Databases) != 1 {
		t.Errorf("after the TTL: %+v", body)
	}
	if n := e.fakes.statusCalls.Load(); n != 2 {
		t.Errorf("reads = %d, want 2", n)
	}
}

func TestStatusCacheErrorsNotCached(t *testing.T) {
	e := newEnv(t, withCacheTTL(time.Hour))
	e.fakes.setStatuses(nil, errWithSecret)
	if res := e.get("/api/database/status"); res.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d", res.Status)
	}
	e.fakes.setStatuses([]projections.TargetStatus{{Type: "redis", Name: "cache", State: "UP"}}, nil)
	if res := e.get("/api/database/status"); res.Status != http.StatusOK {
		t.Errorf("after recovery: %d (an error was cached)", res.Status)
	}
}

func TestStatusConcurrentRequestsShareOneRead(t *testing.T) {
	e := newEnv(t, withCacheTTL(-1))
	gate := make(chan struct{})
	e.fakes.mu.Lock()
	e.fakes.statusGate = gate
	e.fakes.mu.Unlock()
	const n = 8
	var wg sync.WaitGroup
	codes := make(chan int, n)
	for range n {
		wg.Go(func() {
			res, err := e.http.Client().Get(e.http.URL + "/api/database/status")
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			codes <- res.StatusCode
		})
	}
	// Wait until the one read is in flight and every request waits on it
	// (the server has all n requests: observed through the handler
	// metrics would race, so poll the read count and give the others time
	// to join; a late joiner only makes a second read, which the final
	// bound below tolerates).
	for e.fakes.statusCalls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(gate)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("status %d", c)
		}
	}
	if got := e.fakes.statusCalls.Load(); got >= n {
		t.Errorf("%d concurrent requests made %d reads; they should share in-flight reads", n, got)
	}
}
