package api

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// statusSnapshot is one read of the status read model. Each target is
// encoded once; the bodies of the status endpoints are assembled from those
// pieces on first use.
type statusSnapshot struct {
	at       time.Time
	statuses []projections.TargetStatus // sorted by kind order, then name
	elems    [][]byte                   // statuses[i] encoded as a DatabaseStatus

	all    lazyBody   // body of GET /api/database/status
	byKind []lazyBody // body of GET /api/database/status/{kind}, by kindRank
}

// lazyBody is a response body built on first use.
type lazyBody struct {
	once sync.Once
	b    []byte
}

// body returns the status body of every target.
func (s *statusSnapshot) body() []byte {
	s.all.once.Do(func() { s.all.b = s.assemble(func(int) bool { return true }) })
	return s.all.b
}

// kindBody returns the status body of the targets of kind.
func (s *statusSnapshot) kindBody(kind events.Kind) []byte {
	keep := func(j int) bool { return s.statuses[j].Type == string(kind) }
	i := kindRank(string(kind))
	if i >= len(s.byKind) {
		return s.assemble(keep)
	}
	s.byKind[i].once.Do(func() { s.byKind[i].b = s.assemble(keep) })
	return s.byKind[i].b
}

// assemble writes {"overall":...,"databases":[...]} over the statuses
// keep selects.
func (s *statusSnapshot) assemble(keep func(int) bool) []byte {
	var sel []projections.TargetStatus
	size := 40
	for i := range s.statuses {
		if keep(i) {
			sel = append(sel, s.statuses[i])
			size += len(s.elems[i]) + 1
		}
	}
	b := make([]byte, 0, size)
	b = append(b, `{"overall":"`...)
	b = append(b, overall(sel)...)
	b = append(b, `","databases":[`...)
	first := true
	for i := range s.statuses {
		if !keep(i) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, s.elems[i]...)
	}
	return append(b, "]}"...)
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

// buildSnapshot sorts statuses and encodes each of them.
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
	snap := &statusSnapshot{at: at, statuses: sorted, elems: make([][]byte, len(sorted)),
		byKind: make([]lazyBody, len(events.Kinds))}
	for i, st := range sorted {
		b, err := json.Marshal(databaseStatus(st))
		if err != nil {
			return nil, err
		}
		snap.elems[i] = b
	}
	return snap, nil
}

// kindRank orders kinds as events.Kinds does; unknown kinds go last.
func kindRank(kind string) int {
	for i, k := range events.Kinds {
		if string(k) == kind {
			return i
		}
	}
	return len(events.Kinds)
}
