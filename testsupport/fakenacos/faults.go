package fakenacos

import "sync"

// faults are the per-request fault injections: answers held back, and
// requests failed.
type faults struct {
	holds map[string][]*hold
	fails map[string]int
}

// hold is one request answer held back until released.
type hold struct {
	held    chan struct{}
	release chan struct{}
	once    sync.Once
}

// HoldNext holds back the answer to the next gRPC request of type typ
// (the Java class name, e.g. "ConfigQueryRequest"): the request is served
// when it arrives (a config query reads the content of that moment), but
// its answer is sent only once release is called. held is closed when such
// a request has arrived. release is safe to call more than once; Close
// does not release held answers, so call it in a cleanup.
func (s *Server) HoldNext(typ string) (held <-chan struct{}, release func()) {
	h := &hold{held: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	if s.faults.holds == nil {
		s.faults.holds = map[string][]*hold{}
	}
	s.faults.holds[typ] = append(s.faults.holds[typ], h)
	s.mu.Unlock()
	return h.held, func() { h.once.Do(func() { close(h.release) }) }
}

// FailNext answers the next n gRPC requests of type typ with an error
// response (code 500), as a server failing internally does; the
// connection stays up.
func (s *Server) FailNext(typ string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.fails == nil {
		s.faults.fails = map[string]int{}
	}
	s.faults.fails[typ] += n
}

// takeHoldLocked returns the hold armed for the next request of typ, if any.
func (s *Server) takeHoldLocked(typ string) *hold {
	hs := s.faults.holds[typ]
	if len(hs) == 0 {
		return nil
	}
	s.faults.holds[typ] = hs[1:]
	return hs[0]
}

// takeFailLocked reports whether the request of typ is to fail.
func (s *Server) takeFailLocked(typ string) bool {
	if s.faults.fails[typ] == 0 {
		return false
	}
	s.faults.fails[typ]--
	return true
}
