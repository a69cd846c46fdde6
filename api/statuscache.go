package api

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
)

// statusSnapshot is one read of the status read model, with the response
// bodies of the status endpoints encoded once.
type statusSnapshot struct {
	at       time.Time
	statuses []projections.TargetStatus // sorted by kind order, then name
	all      []byte                     // body of GET /api/database/status
	byKind   map[probes.Kind][]byte     // body of GET /api/database/status/{kind}
}

// statusCall is a read in flight that concurrent requests share.
type statusCall struct {
	done chan struct{}
	snap *statusSnapshot
	err  error
}

// statusCache serves the status endpoints. Concurrent requests share one
// read of the store; with ttl > 0 a successful read also serves requests
// that arrive within ttl after it started. Errors are never cached.
type statusCache struct {
	reader  StatusReader
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	mu       sync.Mutex
	snap     *statusSnapshot
	inflight *statusCall
}

func newStatusCache(r StatusReader, ttl, timeout time.Duration, now func() time.Time) *statusCache {
	return &statusCache{reader: r, ttl: ttl, timeout: timeout, now: now}
}

// get returns a snapshot no older than ttl, reading the store if needed.
func (sc *statusCache) get(ctx context.Context) (*statusSnapshot, error) {
	sc.mu.Lock()
	if s := sc.snap; s != nil && sc.ttl > 0 && sc.now().Sub(s.at) < sc.ttl {
		sc.mu.Unlock()
		return s, nil
	}
	call := sc.inflight
	if call == nil {
		call = &statusCall{done: make(chan struct{})}
		sc.inflight = call
		// The read outlives the request that started it: others wait on it.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sc.timeout)
		go func() {
			defer cancel()
			snap, err := sc.read(rctx)
			sc.finish(call, snap, err)
		}()
	}
	sc.mu.Unlock()
	select {
	case <-call.done:
		return call.snap, call.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// finish publishes the result of a read.
func (sc *statusCache) finish(call *statusCall, snap *statusSnapshot, err error) {
	sc.mu.Lock()
	call.snap, call.err = snap, err
	if err == nil && sc.ttl > 0 {
		sc.snap = snap
	}
	sc.inflight = nil
	sc.mu.Unlock()
	close(call.done)
}

// read reads the store and encodes the bodies.
func (sc *statusCache) read(ctx context.Context) (*statusSnapshot, error) {
	at := sc.now()
	statuses, err := sc.reader.Statuses(ctx)
	if err != nil {
		return nil, unavailable("status", err)
	}
	return buildSnapshot(at, statuses)
}

// buildSnapshot sorts statuses and encodes the status bodies.
func buildSnapshot(at time.Time, statuses []projections.TargetStatus) (*statusSnapshot, error) {
	sorted := make([]projections.TargetStatus, len(statuses))
	copy(sorted, statuses)
	sort.SliceStable(sorted, func(i, j int) bool {
		ki, kj := kindRank(sorted[i].Type), kindRank(sorted[j].Type)
		if ki != kj {
			return ki < kj
		}
		return sorted[i].Name < sorted[j].Name
	})
	snap := &statusSnapshot{at: at, statuses: sorted, byKind: make(map[probes.Kind][]byte, len(probes.Kinds))}
	var err error
	if snap.all, err = json.Marshal(statusBody(sorted)); err != nil {
		return nil, err
	}
	for _, k := range probes.Kinds {
		var part []projections.TargetStatus
		for _, s := range sorted {
			if s.Type == string(k) {
				part = append(part, s)
			}
		}
		if snap.byKind[k], err = json.Marshal(statusBody(part)); err != nil {
			return nil, err
		}
	}
	return snap, nil
}

// kindRank orders kinds as probes.Kinds does; unknown kinds go last.
func kindRank(kind string) int {
	for i, k := range probes.Kinds {
		if string(k) == kind {
			return i
		}
	}
	return len(probes.Kinds)
}
