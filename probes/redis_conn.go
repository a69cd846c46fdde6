package probes

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// The connection of the Redis client: dialling (TLS, AUTH, SELECT), the
// exchanges of a probe and the reader goroutine that notices a loss.
// RESP itself is in redis_resp.go.

// redisReadBuffer is the read buffer of a target's connection: a probe's
// replies (PING, INFO) are a few KiB and larger bulk replies are read
// past it.
const redisReadBuffer = 2048

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
