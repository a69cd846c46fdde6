package fakenacos

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"google.golang.org/grpc/peer"
)

// setupWait is how long a request waits for its connection's
// ConnectionSetupRequest before it is refused with 301.
const setupWait = 3 * time.Second

// requestService serves the unary Request RPC.
type requestService struct {
	pb.UnimplementedRequestServer
	s *Server
}

// streamService serves the BiRequestStream RPC.
type streamService struct {
	pb.UnimplementedBiRequestStreamServer
	s *Server
}

func peerOf(ctx context.Context) string {
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		return p.Addr.String()
	}
	return ""
}

// Request answers one unary request, or holds its answer back (HoldNext).
func (r *requestService) Request(ctx context.Context, p *pb.Payload) (*pb.Payload, error) {
	typ := p.GetMetadata().GetType()
	r.s.mu.Lock()
	h := r.s.takeHoldLocked(typ)
	r.s.mu.Unlock()
	resp, err := r.answer(ctx, p)
	if h != nil {
		close(h.held)
		select {
		case <-h.release:
		case <-ctx.Done():
		}
	}
	return resp, err
}

// answer serves one unary request.
func (r *requestService) answer(ctx context.Context, p *pb.Payload) (*pb.Payload, error) {
	s := r.s
	typ := p.GetMetadata().GetType()
	body := p.GetBody().GetValue()
	headers := p.GetMetadata().GetHeaders()
	from := peerOf(ctx)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[typ]++

	respType, known := responseType[typ]
	if !known {
		return payload("ErrorResponse", fail(errNotImplemented, "unsupported request type "+typ)), nil
	}
	switch typ {
	case "ServerCheckRequest":
		c := s.newConnLocked(from)
		return payload(respType, serverCheckResponse{response: ok(), ConnectionID: c.id}), nil
	}
	c := s.st.byPeer[from]
	if c != nil && !c.setup {
		// The SDK sends ConnectionSetupRequest on the stream and then
		// requests at once; a loaded test machine may deliver the request
		// first. Wait for the setup rather than answer 301, which would
		// make the SDK reconnect (and trip its data race under -race).
		s.mu.Unlock()
		select {
		case <-c.setupDone:
		case <-c.closed:
		case <-time.After(setupWait):
		case <-ctx.Done():
		}
		s.mu.Lock()
	}
	if c == nil || !c.setup || s.st.conns[c.id] != c {
		// What a real server answers to a connection that did not set
		// up: the SDK then reconnects.
		return payload("ErrorResponse", fail(errUnregistered, "Connection is unregistered.")), nil
	}
	if typ == "HealthCheckRequest" {
		return payload(respType, ok()), nil
	}
	if s.takeFailLocked(typ) {
		return payload("ErrorResponse", fail(codeFail, "injected failure")), nil
	}
	if s.authOn && !s.tokens[headers["accessToken"]] {
		msg := "user not found!"
		if headers["accessToken"] != "" {
			msg = "token invalid!"
		}
		return payload(respType, fail(errNoRight, msg)), nil
	}
	var resp any
	var err error
	switch typ {
	case "InstanceRequest", "BatchInstanceRequest":
		resp, err = s.handleInstanceLocked(c, body)
	case "SubscribeServiceRequest":
		resp, err = s.handleSubscribeLocked(c, body)
	case "ServiceQueryRequest":
		resp, err = s.handleServiceQueryLocked(body)
	case "ServiceListRequest":
		resp, err = s.handleServiceListLocked(body)
	case "ConfigQueryRequest":
		resp, err = s.handleConfigQueryLocked(body)
	case "ConfigPublishRequest":
		resp, err = s.handleConfigPublishLocked(body)
	case "ConfigRemoveRequest":
		resp, err = s.handleConfigRemoveLocked(body)
	case "ConfigBatchListenRequest":
		resp, err = s.handleBatchListenLocked(c, body)
	}
	if err != nil {
		return payload(respType, fail(400, err.Error())), nil
	}
	return payload(respType, resp), nil
}

// RequestBiStream is the connection's push channel: the client sends
// ConnectionSetupRequest first, then answers to pushes.
func (st *streamService) RequestBiStream(stream pb.BiRequestStream_RequestBiStreamServer) error {
	s := st.s
	from := peerOf(stream.Context())
	s.mu.Lock()
	c := s.st.byPeer[from]
	if c == nil {
		c = s.newConnLocked(from)
	}
	s.mu.Unlock()

	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for {
			select {
			case p := <-c.out:
				if err := stream.Send(p); err != nil {
					return
				}
			case <-c.closed:
				return
			case <-stream.Context().Done():
				return
			}
		}
	}()
	defer func() {
		s.dropConn(c)
		<-writerDone
	}()
	for {
		p, err := stream.Recv()
		if err != nil {
			return nil
		}
		if p.GetMetadata().GetType() == "ConnectionSetupRequest" {
			s.mu.Lock()
			if !c.setup {
				c.setup = true
				close(c.setupDone)
			}
			s.mu.Unlock()
		}
		// Anything else is the client's answer to a push: nothing to do.
	}
}

// newConnLocked records a new connection from peer and gives it an id.
func (s *Server) newConnLocked(from string) *conn {
	if old := s.st.byPeer[from]; old != nil {
		return old
	}
	s.seq++
	c := &conn{
		id:        strconv.FormatInt(time.Now().UnixMilli(), 10) + "_" + from + "_" + strconv.FormatInt(s.seq, 10),
		peer:      from,
		out:       make(chan *pb.Payload, 256),
		closed:    make(chan struct{}),
		setupDone: make(chan struct{}),
		subs:      map[svcKey]string{},
		listens:   map[cfgKey]string{},
		listenMd5: map[cfgKey]string{},
	}
	s.st.conns[c.id] = c
	s.st.byPeer[from] = c
	return c
}

// dropConn forgets a connection: its ephemeral instances go (and their
// subscribers are told), its subscriptions and listeners too.
func (s *Server) dropConn(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	if st.conns[c.id] != c {
		// A connection of the state before a restart: its records went
		// with that state.
		return
	}
	delete(st.conns, c.id)
	if st.byPeer[c.peer] == c {
		delete(st.byPeer, c.peer)
	}
	close(c.closed)
	for k, svc := range st.services {
		changed := false
		for ik, in := range svc.instances {
			if in.connID == c.id && in.Ephemeral {
				delete(svc.instances, ik)
				changed = true
			}
		}
		if changed {
			s.notifyServiceLocked(k)
		}
	}
}

// push queues p for connection c without blocking.
func (s *Server) pushLocked(c *conn, p *pb.Payload) {
	select {
	case c.out <- p:
	default:
		// A client that does not read its stream loses pushes, as with
		// a real server whose push times out.
	}
}

// nextRefTimeLocked is a strictly increasing millisecond clock: the SDK drops
// a ServiceInfo whose lastRefTime is not newer than the one it has.
func (s *Server) nextRefTimeLocked() int64 {
	now := time.Now().UnixMilli()
	if now <= s.refTime {
		now = s.refTime + 1
	}
	s.refTime = now
	return now
}

func (s *Server) nextRequestIDLocked() string {
	s.seq++
	return "fake-" + strconv.FormatInt(s.seq, 10)
}

func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return errors.New("bad request body: " + err.Error())
	}
	return nil
}
