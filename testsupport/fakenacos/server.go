// Package fakenacos is an in-process, protocol-level fake of a Nacos 2.x
// server for tests driven by the real nacos-sdk-go/v2 client.
//
// It serves the gRPC API the SDK speaks (services Request and
// BiRequestStream, every message a Payload whose metadata type is the Java
// class name and whose body is JSON) on port P+1000, and the HTTP endpoints
// the SDK and the probes use (health, server state, auth login, naming
// metrics) on port P, both on 127.0.0.1. It keeps naming and config state in
// memory: ephemeral instances disappear with the connection that registered
// them, subscribers are pushed NotifySubscriberRequest on change, config
// listeners are pushed ConfigChangeNotifyRequest.
//
// Fault injection: Down/Up (readiness 500 and gRPC stopped), Stop/Restart
// (everything stopped, then started again on the same ports with the
// ephemeral state lost), RequireAuth, DropConfigPushes, HoldNext (an
// answer held back) and FailNext (error responses).
//
// Beware: nacos-sdk-go v2.3.2 has a data race in its own reconnect path
// (RpcClient.currentConnection is written by the reconnect goroutine while
// the event goroutine reads it). A test run with -race fails as soon as an
// SDK client reconnects by itself to a node that came back, so tests under
// -race should close SDK clients before Up/Restart (or only use the SDK's
// reconnect in files built with !race).
package fakenacos

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/keepalive"
)

// DefaultVersion is the server version the fake reports until SetVersion.
const DefaultVersion = "2.3.2"

// Server is one fake Nacos node. Create it with New or Start; the zero value
// is not usable. All methods are safe for concurrent use.
type Server struct {
	httpPort int
	grpcPort int

	// lifeMu serialises the start/stop knobs so listeners are never bound
	// twice.
	lifeMu sync.Mutex

	mu       sync.Mutex
	httpSrv  *http.Server
	grpcSrv  *grpc.Server
	down     bool
	version  string
	authUser string
	authPass string
	authOn   bool
	tokens   map[string]bool
	st       *state
	seq      int64
	refTime  int64
	requests map[string]int
	// dropConfigPushes suppresses ConfigChangeNotifyRequest.
	dropConfigPushes bool
	faults           faults
}

// New starts a fake Nacos on a free pair of loopback ports P (HTTP) and
// P+1000 (gRPC). Close it when done.
func New() (*Server, error) {
	hl, gl, err := listenPair()
	if err != nil {
		return nil, err
	}
	s := &Server{
		httpPort: hl.Addr().(*net.TCPAddr).Port,
		grpcPort: gl.Addr().(*net.TCPAddr).Port,
		version:  DefaultVersion,
		tokens:   map[string]bool{},
		st:       newState(),
		requests: map[string]int{},
	}
	s.serveHTTP(hl)
	s.serveGRPC(gl)
	return s, nil
}

// Start is New for tests: it fails tb on error and closes the server in
// tb.Cleanup.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if err != nil {
		tb.Fatalf("fakenacos: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Host is the loopback address the fake listens on.
func (s *Server) Host() string { return "127.0.0.1" }

// HTTPPort is the HTTP port P (the port a Nacos client is configured with).
func (s *Server) HTTPPort() int { return s.httpPort }

// GRPCPort is the gRPC port, always HTTPPort()+1000.
func (s *Server) GRPCPort() int { return s.grpcPort }

// Addr is "127.0.0.1:P", the server address as NACOS_SERVERS lists it.
func (s *Server) Addr() string {
	return net.JoinHostPort(s.Host(), strconv.Itoa(s.httpPort))
}

// SetVersion changes the version reported by /nacos/v1/console/server/state.
func (s *Server) SetVersion(v string) {
	s.mu.Lock()
	s.version = v
	s.mu.Unlock()
}

// RequireAuth turns authentication on: /nacos/v1/auth/users/login accepts
// only user/pass, and every naming and config request must carry the token
// it issued, or is answered with error code 403 (success false), as a real
// server with nacos.core.auth.enabled=true does. An empty user turns
// authentication off again.
func (s *Server) RequireAuth(user, pass string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.authOn = user != ""
	s.authUser, s.authPass = user, pass
	s.tokens = map[string]bool{}
}

// Down makes the node unhealthy: the readiness endpoints answer 500, the
// naming metrics say DOWN, and the gRPC server is stopped (every client
// connection drops, their ephemeral instances are removed, new connections
// are refused). HTTP keeps answering. Up undoes it.
func (s *Server) Down() {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	s.down = true
	g := s.grpcSrv
	s.grpcSrv = nil
	s.mu.Unlock()
	if g != nil {
		g.Stop()
	}
}

// Up ends Down: readiness answers 200 again and the gRPC server listens on
// the same port.
func (s *Server) Up() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.mu.Lock()
	s.down = false
	running := s.grpcSrv != nil
	httpUp := s.httpSrv != nil
	s.mu.Unlock()
	if running || !httpUp {
		return nil
	}
	gl, err := relisten(s.grpcPort)
	if err != nil {
		return err
	}
	s.serveGRPC(gl)
	return nil
}

// Stop stops the node entirely: both ports are closed, every connection
// drops. Restart brings it back on the same ports.
func (s *Server) Stop() {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.stopLocked()
}

func (s *Server) stopLocked() {
	s.mu.Lock()
	h, g := s.httpSrv, s.grpcSrv
	s.httpSrv, s.grpcSrv = nil, nil
	s.mu.Unlock()
	if g != nil {
		g.Stop()
	}
	if h != nil {
		_ = h.Close()
	}
}

// Restart stops the node if it runs and starts it again on the same ports,
// as a restarted Nacos: connections, ephemeral instances, subscriptions and
// listeners are lost; configs, auth settings and the version are kept. A
// pending Down is cleared.
func (s *Server) Restart() error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	s.stopLocked()
	s.mu.Lock()
	s.down = false
	s.tokens = map[string]bool{}
	s.st = s.st.restarted()
	s.mu.Unlock()
	hl, err := relisten(s.httpPort)
	if err != nil {
		return err
	}
	gl, err := relisten(s.grpcPort)
	if err != nil {
		_ = hl.Close()
		return err
	}
	s.serveHTTP(hl)
	s.serveGRPC(gl)
	return nil
}

// Close stops the node for good.
func (s *Server) Close() { s.Stop() }

// Requests reports how many gRPC requests of a type (the Java class name,
// e.g. "InstanceRequest") the node has answered since it was created.
func (s *Server) Requests(typ string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[typ]
}

// serveGRPC starts a gRPC server on l.
func (s *Server) serveGRPC(l net.Listener) {
	g := grpc.NewServer(
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: time.Second, PermitWithoutStream: true}),
	)
	pb.RegisterRequestServer(g, &requestService{s: s})
	pb.RegisterBiRequestStreamServer(g, &streamService{s: s})
	s.mu.Lock()
	s.grpcSrv = g
	s.mu.Unlock()
	go func() { _ = g.Serve(l) }()
}

// serveHTTP starts the HTTP server on l.
func (s *Server) serveHTTP(l net.Listener) {
	h := &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: 5 * time.Second}
	s.mu.Lock()
	s.httpSrv = h
	s.mu.Unlock()
	go func() { _ = h.Serve(l) }()
}

// listenPair finds P such that both P and P+1000 bind on 127.0.0.1.
func listenPair() (net.Listener, net.Listener, error) {
	var lastErr error
	for i := 0; i < 100; i++ {
		hl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, fmt.Errorf("fakenacos: listen: %w", err)
		}
		p := hl.Addr().(*net.TCPAddr).Port
		if p+1000 > 65535 {
			_ = hl.Close()
			continue
		}
		gl, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p+1000)))
		if err != nil {
			lastErr = err
			_ = hl.Close()
			continue
		}
		return hl, gl, nil
	}
	return nil, nil, fmt.Errorf("fakenacos: no free port pair P, P+1000: %w", lastErr)
}

// relisten binds port again, retrying briefly in case the port is still
// being released.
func relisten(port int) (net.Listener, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	var err error
	for i := 0; i < 50; i++ {
		var l net.Listener
		if l, err = net.Listen("tcp", addr); err == nil {
			return l, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, errors.Join(fmt.Errorf("fakenacos: rebind %s", addr), err)
}
