package probes

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"
)

// Watch holds a dedicated pub/sub connection (SUBSCRIBE to a channel of
// its own) and blocks reading it. A server that goes away ends the read at
// once: lost is called and the connection is re-established with backoff.
// A connection silent for watchIdleCheck is pinged, so a half-open one is
// noticed too. Watch returns when ctx is done or the client is closed.
//
// It speaks RESP on a raw connection because go-redis PubSub reconnects
// inside Receive, hiding the loss it should report.
func (c *redisClient) Watch(ctx context.Context, lost func(reason string)) {
	ctx, cancel := untilClosed(ctx, c.closed)
	defer cancel()
	watchLoop(ctx, lost, c.watchOnce)
}

// watchOnce subscribes on a new connection and reads until it is lost.
func (c *redisClient) watchOnce(ctx context.Context) (bool, string) {
	conn, rd, err := c.subscribe(ctx)
	if err != nil {
		return false, ""
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	pinged := false
	for {
		_ = conn.SetReadDeadline(time.Now().Add(watchIdleCheck))
		_, err := rd.Peek(1)
		var ne net.Error
		switch {
		case ctx.Err() != nil:
			return true, ""
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout() && !pinged:
			pinged = true
			_ = conn.SetWriteDeadline(time.Now().Add(c.opt.WriteTimeout))
			if _, err := conn.Write(appendRESP(nil, "PING")); err != nil {
				return true, "redis watch connection lost: " + err.Error()
			}
			continue
		default:
			return true, "redis watch connection lost: " + err.Error()
		}
		_ = conn.SetReadDeadline(time.Now().Add(c.opt.ReadTimeout))
		if _, err := readRESP(rd); err != nil {
			return true, "redis watch connection lost: " + err.Error()
		}
		pinged = false
	}
}

// subscribe dials, authenticates and subscribes within the target's
// timeout.
func (c *redisClient) subscribe(ctx context.Context) (net.Conn, *bufio.Reader, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opt.DialTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.opt.Addr)
	if err != nil {
		return nil, nil, err
	}
	if c.opt.TLSConfig != nil {
		tc := tls.Client(conn, c.opt.TLSConfig.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, nil, err
		}
		conn = tc
	}
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	var cmds []byte
	replies := 1
	switch {
	case c.opt.Username != "":
		cmds = appendRESP(cmds, "AUTH", c.opt.Username, c.opt.Password)
		replies++
	case c.opt.Password != "":
		cmds = appendRESP(cmds, "AUTH", c.opt.Password)
		replies++
	}
	cmds = appendRESP(cmds, "SUBSCRIBE", c.channel)
	rd := bufio.NewReader(conn)
	if _, err := conn.Write(cmds); err != nil {
		_ = conn.Close()
		return nil, nil, err
	}
	for range replies {
		v, err := readRESP(rd)
		if err == nil {
			if re, ok := v.(respError); ok {
				err = re
			}
		}
		if err != nil {
			_ = conn.Close()
			return nil, nil, fmt.Errorf("redis watch: %w", err)
		}
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, rd, nil
}
