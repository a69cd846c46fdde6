package servers

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to an upstream
// address. Cut closes every connection it carries, which looks to the client
// like the server dropping it, while the upstream server keeps running.
// Pause holds every byte in both directions until Resume, like a stalled
// network or a server that stopped reading.
type Proxy struct {
	// Host and Port address the proxy's listener.
	Host string
	Port int

	upstream string
	ln       net.Listener
	wg       sync.WaitGroup
	mu       sync.Mutex
	links    map[*link]struct{}
	accepted int
	refuse   bool
	// held is closed by Resume; nil while not paused.
	held chan struct{}
}

// link is one proxied connection.
type link struct {
	client, server net.Conn
	// wmu serialises writes to the client (forwarded and injected bytes).
	wmu sync.Mutex
}

func (l *link) close() {
	_ = l.client.Close()
	_ = l.server.Close()
}

// StartProxy starts a Proxy to upstream (host:port, loopback), stopped by
// t.Cleanup.
func StartProxy(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("servers: proxy: %v", err)
	}
	p := &Proxy{
		Host:     "127.0.0.1",
		Port:     ln.Addr().(*net.TCPAddr).Port,
		upstream: upstream,
		ln:       ln,
		links:    make(map[*link]struct{}),
	}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		_ = ln.Close()
		p.Resume()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is host:port of the proxy.
func (p *Proxy) Addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// Accepted reports how many client connections the proxy has accepted.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

// Cut closes every connection currently carried, on both sides. New
// connections are still accepted and forwarded.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.close()
		delete(p.links, l)
	}
}

// Pause stops forwarding, in both directions, on every connection: what
// is read is held (not dropped) until Resume. New connections are still
// accepted.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held == nil {
		p.held = make(chan struct{})
	}
}

// Resume forwards what Pause held, and all that follows.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.held != nil {
		close(p.held)
		p.held = nil
	}
}

// InjectToClients writes b to every client as if the server had sent it.
// b must be whole protocol frames, and the connections should be idle, so
// that b does not land in the middle of a forwarded frame.
func (p *Proxy) InjectToClients(b []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.wmu.Lock()
		_, err := l.client.Write(b)
		l.wmu.Unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// SetRefuse makes the proxy close new connections at once (true) or
// forward them again (false); with Cut it makes the upstream look dead.
func (p *Proxy) SetRefuse(refuse bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = refuse
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		p.mu.Unlock()
		if refuse {
			_ = client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.upstream)
		if err != nil {
			_ = client.Close()
			continue
		}
		l := &link{client: client, server: server}
		p.mu.Lock()
		p.accepted++
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.forward(l, server, client, nil)
		go p.forward(l, client, server, &l.wmu)
	}
}

// forward copies src to dst, holding wmu (when given) for each write; when
// either side ends it closes both.
func (p *Proxy) forward(l *link, dst io.Writer, src io.Reader, wmu *sync.Mutex) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		p.mu.Lock()
		held := p.held
		p.mu.Unlock()
		if held != nil {
			<-held
		}
		if n > 0 {
			if wmu != nil {
				wmu.Lock()
			}
			_, werr := dst.Write(buf[:n])
			if wmu != nil {
				wmu.Unlock()
			}
			if werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	p.mu.Lock()
	delete(p.links, l)
	p.mu.Unlock()
	l.close()
}
