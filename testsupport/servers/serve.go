package servers

import (
	"net"
	"testing"
)

// Serve accepts connections on ln until ln is closed, which t.Cleanup
// does, and runs handle for each in a goroutine of its own, closing the
// connection when handle returns: a loopback server for a protocol a test
// writes itself (ln may be a tls.Listen listener).
func Serve(t testing.TB, ln net.Listener, handle func(net.Conn)) {
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				handle(c)
			}()
		}
	}()
}
