package probes

import (
	"context"
	"crypto/tls"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

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

	closed *closeSignal
}

// OpenRedis returns the client of a Redis target. It connects on first use.
func OpenRedis(_ context.Context, t Target) (Client, error) {
	tlsCfg, err := tlsConfig(t)
	if err != nil {
		return nil, err
	}
	return &redisClient{t: t, addr: t.Addr(), timeout: targetTimeout(t), tls: tlsCfg, closed: newCloseSignal()}, nil
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
	if rc != nil && !isClosedChan(rc.dead) && !rc.abandoned.Load() {
		return rc, false, nil
	}
	if rc, err = c.dial(ctx); err != nil {
		return nil, true, err
	}
	c.mu.Lock()
	c.conn = rc
	c.mu.Unlock()
	go c.read(rc)
	if isClosedChan(c.closed.done()) { // closed while dialling
		rc.abandon()
		return nil, true, errRedisConnLost
	}
	return rc, true, nil
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
	case <-c.closed.done():
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
	return rc != nil && !isClosedChan(rc.dead)
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
	c.closed.close(func() {
		c.mu.Lock()
		rc := c.conn
		c.mu.Unlock()
		if rc != nil {
			rc.abandon()
		}
	})
	return nil
}
