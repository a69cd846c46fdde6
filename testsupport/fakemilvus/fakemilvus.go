// Package fakemilvus is an in-process Milvus stand-in for tests: a gRPC
// server on loopback that implements the three MilvusService RPCs a health
// probe uses (Connect, CheckHealth, GetVersion) the way a Milvus 2.4 proxy
// answers them, with knobs to inject faults (unhealthy components, quota
// states, authentication, slow answers, error codes, a hard stop and a
// restart on the same port).
//
// Every other RPC answers Unimplemented. It is driven by the real
// milvus-sdk-go client. Every knob is safe to call while RPCs are served.
package fakemilvus

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// DefaultVersion is the version GetVersion (and Connect's build tags)
// report unless SetVersion changes it.
const DefaultVersion = "v2.4.15"

// Authentication failure messages, as a Milvus proxy words them.
const (
	MsgMissingAuth = "missing authorization in header"
	MsgAuthFailure = "auth check failure, please check username and password are correct"
)

// Server is a fake Milvus proxy. Create it with New.
type Server struct {
	t    testing.TB
	addr string

	conns atomic.Int64
	ids   atomic.Int64

	callsMu sync.Mutex
	calls   map[string]int64

	mu sync.Mutex
	k  knobs // guarded by mu

	// srvMu guards the running gRPC server.
	srvMu   sync.Mutex
	grpcSrv *grpc.Server
	stopped chan struct{} // closed by Stop: ends delayed answers
	served  chan struct{} // closed when Serve returns
	tls     *tls.Config   // nil: plain text
}

// New starts a healthy fake Milvus on 127.0.0.1 (a free port) and registers
// its Stop with t.Cleanup.
func New(t testing.TB) *Server { return NewTLS(t, nil) }

// NewTLS is New for a server that speaks TLS with cfg (across restarts);
// nil cfg is plain text.
func NewTLS(t testing.TB, cfg *tls.Config) *Server {
	t.Helper()
	s := &Server{t: t, k: knobs{healthy: true, version: DefaultVersion}, calls: map[string]int64{}, tls: cfg}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("fakemilvus: listen: %v", err)
	}
	s.addr = lis.Addr().String()
	s.start(lis)
	t.Cleanup(s.Stop)
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// Host is the server's IP address (127.0.0.1).
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.addr)
	return h
}

// Port is the server's TCP port; it stays the same across Restart.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// SetHealthy sets what CheckHealth reports: is_healthy and its reasons.
func (s *Server) SetHealthy(healthy bool, reasons ...string) {
	s.set(func(k *knobs) { k.healthy, k.reasons = healthy, append([]string(nil), reasons...) })
}

// SetQuotaStates sets the quota states CheckHealth reports (none by
// default). Each state comes with the reason a Milvus proxy gives for it.
func (s *Server) SetQuotaStates(states ...milvuspb.QuotaState) {
	s.set(func(k *knobs) { k.quota = append([]milvuspb.QuotaState(nil), states...) })
}

// RequireAuth makes every RPC need the SDK's authorization metadata for
// user and pass (base64 of "user:pass"); others fail with Unauthenticated
// and Milvus' message. An empty user turns authentication off again.
func (s *Server) RequireAuth(user, pass string) {
	s.set(func(k *knobs) { k.authUser, k.authPass, k.authOn = user, pass, user != "" })
}

// SetDelay makes every RPC wait d before answering (0 answers at once). A
// caller that gives up, or Stop, ends the wait.
func (s *Server) SetDelay(d time.Duration) { s.set(func(k *knobs) { k.delay = d }) }

// FailWith makes every RPC fail with code (after authentication);
// codes.OK clears it.
func (s *Server) FailWith(code codes.Code) { s.set(func(k *knobs) { k.failCode = code }) }

// SetVersion sets the version GetVersion reports.
func (s *Server) SetVersion(v string) { s.set(func(k *knobs) { k.version = v }) }

// Calls is the number of times the RPC with the given short name
// ("Connect", "CheckHealth", "GetVersion", ...) was received.
func (s *Server) Calls(method string) int64 {
	s.callsMu.Lock()
	defer s.callsMu.Unlock()
	return s.calls[method]
}

// Conns is the number of client TCP connections currently open.
func (s *Server) Conns() int64 { return s.conns.Load() }

// Stop stops the server hard: the listener and every connection are
// closed at once, in-flight RPCs fail. It is safe to call more than once.
func (s *Server) Stop() {
	s.srvMu.Lock()
	defer s.srvMu.Unlock()
	if s.grpcSrv == nil {
		return
	}
	close(s.stopped)
	s.grpcSrv.Stop()
	<-s.served
	s.grpcSrv = nil
}

// Restart starts a stopped server again on the same address; it does
// nothing if the server runs. It fails the test if the port cannot be
// bound again.
func (s *Server) Restart() {
	s.t.Helper()
	s.srvMu.Lock()
	running := s.grpcSrv != nil
	s.srvMu.Unlock()
	if running {
		return
	}
	var (
		lis net.Listener
		err error
	)
	for deadline := time.Now().Add(2 * time.Second); ; {
		lis, err = net.Listen("tcp", s.addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("fakemilvus: restart on %s: %v", s.addr, err)
	}
	s.start(lis)
}

// start serves on lis with a new gRPC server.
func (s *Server) start(lis net.Listener) {
	if s.tls != nil {
		lis = tls.NewListener(lis, s.tls)
	}
	stopped := make(chan struct{})
	srv := grpc.NewServer(
		grpc.UnaryInterceptor(s.interceptor(stopped)),
		// As Milvus does: allow the SDK's keepalive pings without streams.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 5 * time.Second, PermitWithoutStream: true}),
	)
	milvuspb.RegisterMilvusServiceServer(srv, &service{s: s})
	served := make(chan struct{})
	s.srvMu.Lock()
	s.grpcSrv, s.stopped, s.served = srv, stopped, served
	s.srvMu.Unlock()
	go func() {
		defer close(served)
		_ = srv.Serve(&countingListener{Listener: lis, open: &s.conns})
	}()
}

// knobs are the server's settings; an RPC reads a consistent snapshot.
type knobs struct {
	healthy            bool
	reasons            []string
	quota              []milvuspb.QuotaState
	authOn             bool
	authUser, authPass string
	delay              time.Duration
	failCode           codes.Code
	version            string
}

// set changes the knobs under the lock.
func (s *Server) set(change func(k *knobs)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	change(&s.k)
}

// knobs is a snapshot of the knobs, sharing no slice with them.
func (s *Server) knobs() knobs {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.k
	k.reasons = append([]string(nil), k.reasons...)
	k.quota = append([]milvuspb.QuotaState(nil), k.quota...)
	return k
}

// interceptor counts, delays, authenticates and fails RPCs as configured;
// stopped is closed when this run of the server stops.
func (s *Server) interceptor(stopped <-chan struct{}) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return s.intercept(ctx, req, info, handler, stopped)
	}
}

func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler, stopped <-chan struct{}) (any, error) {
	name := info.FullMethod[strings.LastIndex(info.FullMethod, "/")+1:]
	s.callsMu.Lock()
	s.calls[name]++
	s.callsMu.Unlock()

	k := s.knobs()
	if k.delay > 0 {
		timer := time.NewTimer(k.delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return nil, status.FromContextError(ctx.Err()).Err()
		case <-stopped:
			return nil, status.Error(codes.Unavailable, "fakemilvus: server stopped")
		}
	}
	if k.authOn {
		if err := checkAuth(ctx, k.authUser, k.authPass); err != nil {
			return nil, err
		}
	}
	if k.failCode != codes.OK {
		return nil, status.Error(k.failCode, "fakemilvus: injected failure")
	}
	return handler(ctx, req)
}

// checkAuth verifies the authorization metadata like a Milvus proxy.
func checkAuth(ctx context.Context, user, pass string) error {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get("authorization")
	if len(vals) == 0 {
		return status.Error(codes.Unauthenticated, MsgMissingAuth)
	}
	raw, err := base64.StdEncoding.DecodeString(vals[0])
	if err != nil {
		return status.Error(codes.Unauthenticated, "invalid token format")
	}
	u, p, ok := strings.Cut(string(raw), ":")
	if !ok || u != user || p != pass {
		return status.Error(codes.Unauthenticated, MsgAuthFailure)
	}
	return nil
}

// quotaReason is the reason a Milvus proxy reports beside a quota state.
func quotaReason(q milvuspb.QuotaState) string {
	switch q {
	case milvuspb.QuotaState_DenyToWrite:
		return "memory quota exceeded, please allocate more resources"
	case milvuspb.QuotaState_DenyToRead:
		return "access has been disabled by the administrator"
	case milvuspb.QuotaState_ReadLimited, milvuspb.QuotaState_WriteLimited:
		return "rate limit exceeded"
	}
	return "unknown quota state"
}

// service implements the MilvusService RPCs the fake supports.
type service struct {
	milvuspb.UnimplementedMilvusServiceServer
	s *Server
}

func (v *service) Connect(ctx context.Context, req *milvuspb.ConnectRequest) (*milvuspb.ConnectResponse, error) {
	k := v.s.knobs()
	return &milvuspb.ConnectResponse{
		Status: &commonpb.Status{},
		ServerInfo: &commonpb.ServerInfo{
			BuildTags:  k.version,
			DeployMode: "STANDALONE",
			GoVersion:  "go1.21",
		},
		Identifier: v.s.ids.Add(1),
	}, nil
}

func (v *service) GetVersion(ctx context.Context, req *milvuspb.GetVersionRequest) (*milvuspb.GetVersionResponse, error) {
	return &milvuspb.GetVersionResponse{Status: &commonpb.Status{}, Version: v.s.knobs().version}, nil
}

func (v *service) CheckHealth(ctx context.Context, req *milvuspb.CheckHealthRequest) (*milvuspb.CheckHealthResponse, error) {
	k := v.s.knobs()
	resp := &milvuspb.CheckHealthResponse{Status: &commonpb.Status{}, IsHealthy: k.healthy, QuotaStates: k.quota}
	if !k.healthy {
		resp.Reasons = k.reasons
		return resp, nil
	}
	for _, q := range k.quota {
		resp.Reasons = append(resp.Reasons, quotaReason(q))
	}
	return resp, nil
}

// countingListener counts the connections it accepted that are still open.
type countingListener struct {
	net.Listener
	open *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.open.Add(1)
	return &countedConn{Conn: c, open: l.open}, nil
}

// countedConn decrements its listener's count once when closed.
type countedConn struct {
	net.Conn
	once sync.Once
	open *atomic.Int64
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.open.Add(-1) })
	return c.Conn.Close()
}
