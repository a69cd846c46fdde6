package api

import (
	"net"
	"net/http"
	"sync"
)

// streamSlots caps the open event streams, in all and per client address
// (the TCP peer, not a forwarded header a client could make up), so that
// streams cannot exhaust the replica's goroutines, sockets or memory.
type streamSlots struct {
	mu        sync.Mutex
	max       int
	perClient int
	open      int
	byAddr    map[string]int
}

func newStreamSlots(max, perClient int) *streamSlots {
	return &streamSlots{max: max, perClient: perClient, byAddr: map[string]int{}}
}

// acquire takes a slot for a stream from r's peer; release gives it back.
// It fails with a 503 error (the envelope) past either cap.
func (l *streamSlots) acquire(r *http.Request) (release func(), err error) {
	addr, _, splitErr := net.SplitHostPort(r.RemoteAddr)
	if splitErr != nil {
		addr = r.RemoteAddr
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.max:
		return nil, &httpError{status: http.StatusServiceUnavailable, code: "unavailable",
			message: "too many event streams are open on this replica; retry later"}
	case l.byAddr[addr] >= l.perClient:
		return nil, &httpError{status: http.StatusServiceUnavailable, code: "unavailable",
			message: "too many event streams are open from this client address; close one first"}
	}
	l.open++
	l.byAddr[addr]++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.open--
			if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
				delete(l.byAddr, addr)
			}
		})
	}, nil
}
