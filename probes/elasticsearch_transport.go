package probes

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// newESTransport returns the HTTP transport of one Elasticsearch client: a
// clone of the default transport whose dialer keeps *open equal to the
// number of TCP connections currently open. tlsCfg (nil: Go's default)
// secures the https connections.
func newESTransport(open *atomic.Int64, tlsCfg *tls.Config) *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tlsCfg
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		open.Add(1)
		return &esCountedConn{Conn: conn, open: open}, nil
	}
	return tr
}

// esCountedConn decrements the open-connection count once when closed.
type esCountedConn struct {
	net.Conn
	once sync.Once
	open *atomic.Int64
}

func (c *esCountedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}
