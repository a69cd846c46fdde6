package probes

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// redisReadBuffer is the read buffer of a target's connection: a probe's
// replies (PING, INFO) are a few KiB and larger bulk replies are read
// past it.
const redisReadBuffer = 2048

// redisClient is the long-lived client of one Redis target: one raw RESP
// connection, opened on the first probe, that serves the probes and is
// the watched connection too. Between probes a reader goroutine blocks
// on it, so a server that goes away is noticed at once; the next probe
// dials again. One connection per target keeps a fleet watching thousands
// of targets within the file limits of the process and of the servers.
type redisClient struct {
	t       Target
	addr    string
	timeout time.Duration
	tls     *tls.Config

	probe sync.Mutex // one probe at a time on the connection
	mu    sync.Mutex // guards conn and lost
	conn  *redisConn
	lost  func(reason string)
	pc    probeCounter

	// maxclients from CONFIG GET, for servers whose INFO lacks it (< 7.0).
	maxClients atomic.Int64

	closeOnce sync.Once
	closed    chan struct{}
}

// OpenRedis returns the client of a Redis target. It connects on first use.
func OpenRedis(_ context.Context, t Target) (Client, error) {
	tlsCfg, err := tlsConfig(t)
	if err != nil {
		return nil, err
	}
	return &redisClient{t: t, addr: t.Addr(), timeout: targetTimeout(t), tls: tlsCfg, closed: make(chan struct{})}, nil
}

// redisConn is one connection with its reader goroutine.
type redisConn struct {
	nc  net.Conn
	rd  *bufio.Reader
	req chan int        // a probe waits for n replies
	res chan respResult // the replies (or the error)
	// abandoned is set when a probe gave up on its replies: the reader
	// goroutine then ends without calling the connection lost.
	abandoned atomic.Bool
	dead      chan struct{}
}

type respResult struct {
	vals []any
	err  error
}

// Probe sends PING and INFO in one write and reads both replies.
func (c *redisClient) Probe(ctx context.Context) (Facts, error) {
	return count(&c.pc, func() (Facts, error) {
		c.probe.Lock()
		defer c.probe.Unlock()
		f, err := c.observe(ctx)
		if err != nil {
			return nil, classifyRedis(err)
		}
		f.Pool = c.Stats()
		return f, nil
	})
}

func (c *redisClient) observe(ctx context.Context) (RedisFacts, error) {
	rc, fresh, err := c.connection(ctx)
	if err != nil {
		return RedisFacts{}, err
	}
	cmds := appendRESP(appendRESP(nil, "PING"), "INFO")
	vals, err := rc.do(ctx, cmds, 2)
	if err != nil && !fresh && ctx.Err() == nil {
		// The held connection died since the last probe (and the reader
		// had not told yet): ask the server again on a new one, so that
		// the error describes the server now.
		if rc, _, err = c.connection(ctx); err != nil {
			return RedisFacts{}, err
		}
		vals, err = rc.do(ctx, cmds, 2)
	}
	if err != nil {
		return RedisFacts{}, err
	}
	info, ok := vals[1].(string)
	if !ok {
		if e, isErr := vals[1].(respError); isErr {
			return RedisFacts{}, e
		}
		return RedisFacts{}, fmt.Errorf("%w: INFO answered %T", errRESP, vals[1])
	}
	f := redisFactsFromInfo(info)
	// A server loading its dataset answers PING with LOADING; INFO still
	// works and the facts say loading.
	if e, isErr := vals[0].(respError); isErr && !(f.Loading && redisErrorCode(e) == "LOADING") {
		return f, e
	}
	if f.MaxClients == 0 {
		f.MaxClients = c.configMaxClients(ctx, rc)
	}
	return f, nil
}

// configMaxClients asks CONFIG GET maxclients once (servers before 7.0;
// ACLs may deny it, and then the ratio is simply not judged).
func (c *redisClient) configMaxClients(ctx context.Context, rc *redisConn) int64 {
	if n := c.maxClients.Load(); n != 0 {
		return max(n, 0)
	}
	vals, err := rc.do(ctx, appendRESP(nil, "CONFIG", "GET", "maxclients"), 1)
	n := int64(-1)
	if err == nil {
		if kv, ok := vals[0].([]any); ok && len(kv) == 2 {
			if s, ok := kv[1].(string); ok {
				n, _ = strconv.ParseInt(s, 10, 64)
			}
		}
	}
	c.maxClients.Store(n)
	return max(n, 0)
}

// connection returns the open connection, dialling one (fresh) when there
// is none; a held one that failed is abandoned first.
func (c *redisClient) connection(ctx context.Context) (rc *redisConn, fresh bool, err error) {
	c.mu.Lock()
	rc = c.conn
	c.mu.Unlock()
	if rc != nil {
		select {
		case <-rc.dead:
		default:
			if !rc.abandoned.Load() {
				return rc, false, nil
			}
		}
	}
	if rc, err = c.dial(ctx); err != nil {
		return nil, true, err
	}
	c.mu.Lock()
	c.conn = rc
	c.mu.Unlock()
	go c.read(rc)
	select {
	case <-c.closed: // closed while dialling
		rc.abandon()
		return nil, true, errRedisConnLost
	default:
	}
	return rc, true, nil
}

// dial connects, authenticates and selects the database within ctx.
func (c *redisClient) dial(ctx context.Context) (*redisConn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return nil, err
	}
	if c.tls != nil {
		tc := tls.Client(nc, c.tls.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			return nil, tlsHandshakeError(err)
		}
		nc = tc
	}
	rc := &redisConn{nc: nc, rd: bufio.NewReaderSize(nc, redisReadBuffer),
		req: make(chan int, 1), res: make(chan respResult, 1), dead: make(chan struct{})}
	var cmds []byte
	n := 0
	switch pw := c.t.Password.Reveal(); {
	case c.t.Username != "":
		cmds, n = appendRESP(cmds, "AUTH", c.t.Username, pw), n+1
	case pw != "":
		cmds, n = appendRESP(cmds, "AUTH", pw), n+1
	}
	if c.t.DB != 0 {
		cmds, n = appendRESP(cmds, "SELECT", strconv.Itoa(c.t.DB)), n+1
	}
	if n == 0 {
		// A server that refuses the client (max number of clients) says
		// so right after accepting: ask something, to hear it here.
		cmds, n = appendRESP(cmds, "PING"), 1
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(c.timeout)
	}
	_ = nc.SetDeadline(deadline)
	fail := func(err error) (*redisConn, error) {
		_ = nc.Close()
		if c.tls != nil {
			err = tlsAfterHandshakeError(err)
		}
		return nil, err
	}
	if _, err := nc.Write(cmds); err != nil {
		return fail(err)
	}
	for range n {
		v, err := readRESP(rc.rd)
		if err == nil {
			if e, isErr := v.(respError); isErr {
				_ = nc.Close()
				return nil, e
			}
		}
		if err != nil {
			return fail(err)
		}
	}
	_ = nc.SetDeadline(time.Time{})
	return rc, nil
}

// do writes cmds and waits for n replies from the reader goroutine until
// ctx ends; a probe that gives up closes the connection (its replies
// would come out of step).
func (rc *redisConn) do(ctx context.Context, cmds []byte, n int) ([]any, error) {
	if d, ok := ctx.Deadline(); ok {
		_ = rc.nc.SetWriteDeadline(d)
	}
	select {
	case rc.req <- n: // before the write: the replies find it waiting
	default:
		rc.abandon()
		return nil, errRedisConnLost
	}
	if _, err := rc.nc.Write(cmds); err != nil {
		rc.abandon()
		return nil, err
	}
	select {
	case r := <-rc.res:
		return r.vals, r.err
	case <-rc.dead:
		select {
		case r := <-rc.res:
			return r.vals, r.err
		default:
			return nil, errRedisConnLost
		}
	case <-ctx.Done():
		rc.abandon()
		return nil, ctx.Err()
	}
}

// abandon closes the connection on behalf of a probe that gave up (or a
// Close): the reader goroutine then ends without reporting a loss.
func (rc *redisConn) abandon() {
	rc.abandoned.Store(true)
	_ = rc.nc.Close()
}

var errRedisConnLost = errors.New("redis: connection lost")

// read is rc's reader goroutine. Between probes it blocks on the
// connection, so a server that goes away (or sends something unasked, as
// a server closing an idle client does) is noticed at once and reported
// to the watcher. When data arrives after a probe's write, the probe's
// request is waiting: the goroutine reads its replies and hands them over.
func (c *redisClient) read(rc *redisConn) {
	reason := c.serve(rc)
	_ = rc.nc.Close()
	close(rc.dead)
	if reason != "" && !rc.abandoned.Load() {
		c.report(reason)
	}
}

// serve runs rc's exchanges until the connection ends, and says why when
// that is a loss to report.
func (c *redisClient) serve(rc *redisConn) (lost string) {
	for {
		_, err := rc.rd.Peek(1)
		n, asked := 0, false
		select {
		case n = <-rc.req:
			asked = true
		default:
		}
		switch {
		case err != nil && asked:
			rc.res <- respResult{err: err}
			return ""
		case err != nil:
			return "redis connection lost: " + err.Error()
		case !asked:
			return "redis connection lost: the server sent data nobody asked for"
		}
		vals := make([]any, n)
		for i := range vals {
			if vals[i], err = readRESP(rc.rd); err != nil {
				break
			}
		}
		rc.res <- respResult{vals: vals, err: err}
		if err != nil {
			return ""
		}
	}
}

// report tells the watcher the connection was lost.
func (c *redisClient) report(reason string) {
	c.mu.Lock()
	lost := c.lost
	c.mu.Unlock()
	if lost != nil {
		lost(reason)
	}
}

// Watch reports every loss of the connection (it is re-established by the
// next probe) until ctx is done or the client is closed.
func (c *redisClient) Watch(ctx context.Context, lost func(reason string)) {
	c.mu.Lock()
	c.lost = lost
	c.mu.Unlock()
	select {
	case <-ctx.Done():
	case <-c.closed:
	}
	c.mu.Lock()
	c.lost = nil
	c.mu.Unlock()
}

// connected reports whether the client holds a live connection.
func (c *redisClient) connected() bool {
	c.mu.Lock()
	rc := c.conn
	c.mu.Unlock()
	if rc == nil {
		return false
	}
	select {
	case <-rc.dead:
		return false
	default:
		return true
	}
}

// Stats reports the connection and the probes made over it.
func (c *redisClient) Stats() PoolStats {
	open := int64(0)
	if c.connected() {
		open = 1
	}
	return c.pc.stats(open)
}

// Close closes the connection.
func (c *redisClient) Close() error {
	c.closeOnce.Do(func() {
		close(c.closed)
		c.mu.Lock()
		rc := c.conn
		c.mu.Unlock()
		if rc != nil {
			rc.abandon()
		}
	})
	return nil
}

// redisErrorCode is the first word of a Redis error reply ("WRONGPASS",
// "LOADING", ...), or "" when err is not one.
func redisErrorCode(err error) string {
	var rerr respError
	if !errors.As(err, &rerr) {
		return ""
	}
	code, _, _ := strings.Cut(string(rerr), " ")
	return code
}

// classifyRedis gives err the kind the server's error reply tells.
func classifyRedis(err error) error {
	code := redisErrorCode(err)
	switch code {
	case "":
		return err
	case "WRONGPASS", "NOAUTH", "NOPERM":
		return Fail(ErrKindAuth, err)
	case "LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "MISCONF":
		return Fail(ErrKindUnavailable, err)
	}
	msg := strings.ToLower(err.Error())
	// Older servers: "ERR invalid password", "ERR AUTH <password> called
	// without any password configured ...".
	if strings.Contains(msg, "password") || strings.Contains(msg, "auth") {
		return Fail(ErrKindAuth, err)
	}
	if strings.Contains(msg, "max number of clients") {
		return Fail(ErrKindUnavailable, err)
	}
	return Fail(ErrKindProtocol, err)
}
