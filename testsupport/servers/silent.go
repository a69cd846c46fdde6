package servers

import (
	"net"
	"strconv"
	"sync"
	"testing"
)

// Silent is a TCP listener on 127.0.0.1 that accepts connections and never
// sends a byte: a stand-in for a hung server or a blackholed route, so that
// a timeout can be tested without leaving loopback.
type Silent struct {
	// Host and Port address the listener.
	Host string
	Port int

	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

// StartSilent starts a Silent listener, closed (with every accepted
// connection) by t.Cleanup.
func StartSilent(t testing.TB) *Silent {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("servers: silent listener: %v", err)
	}
	s := &Silent{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, ln: ln}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.conns {
			_ = c.Close()
		}
	})
	return s
}

// Addr is host:port of the listener.
func (s *Silent) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Accepted reports how many connections the listener has accepted.
func (s *Silent) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
