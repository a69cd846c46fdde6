package probes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// errClientClosed is returned by a probe of a closed client.
var errClientClosed = errors.New("probes: client closed")

// rabbitClient keeps one AMQP connection to a RabbitMQ target alive and
// reuses it: every probe opens and closes a channel on it.
type rabbitClient struct {
	url     string
	cfg     amqp.Config
	vhost   string
	timeout time.Duration
	mgmt    *rabbitManagement

	// dialing is a one-slot lock held while a connection is dialed, so
	// that a probe waiting for it still honours its own context.
	dialing chan struct{}
	mu      sync.Mutex
	sess    *rabbitSession
	closed  chan struct{}

	// pc counts the probes (acquires) and their errors; its in-use count
	// is the channel opens in flight.
	pc probeCounter
}

// rabbitSession is one AMQP connection and what was observed on it.
type rabbitSession struct {
	conn *amqp.Connection
	// done is closed when the connection is gone; reason says why.
	done   chan struct{}
	reason string
	// blocked holds the server's reason while it blocks the connection
	// (connection.blocked: a resource alarm), nil otherwise.
	blocked atomic.Pointer[string]
	// watched is set while a watcher waits on this connection.
	watched atomic.Bool
}

func (s *rabbitSession) alive() bool { return !isClosedChan(s.done) }

// OpenRabbitMQ returns the client of a RabbitMQ target. It connects on
// first use; the credentials go to the SASL mechanism, never into the URL.
func OpenRabbitMQ(_ context.Context, t Target) (Client, error) {
	tlsCfg, err := tlsConfig(t)
	if err != nil {
		return nil, err
	}
	scheme, port := "amqp", 5672
	if tlsCfg != nil {
		scheme, port = "amqps", 5671
	}
	if t.Port > 0 {
		port = t.Port
	}
	vhost := t.VHost
	if vhost == "" {
		vhost = "/"
	}
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName("database-service probe")
	c := &rabbitClient{
		url: (&url.URL{Scheme: scheme, Host: net.JoinHostPort(t.Host, strconv.Itoa(port)), Path: "/"}).String(),
		cfg: amqp.Config{
			SASL:       []amqp.Authentication{&amqp.PlainAuth{Username: t.Username, Password: t.Password.Reveal()}},
			Vhost:      vhost,
			Heartbeat:  10 * time.Second,
			Properties: props,
			Locale:     "en_US",
			// The target's TLS mode, not amqp091's default (verify-full
			// against the system roots).
			TLSClientConfig: tlsCfg,
		},
		vhost:   vhost,
		timeout: targetTimeout(t),
		dialing: make(chan struct{}, 1),
		closed:  make(chan struct{}),
	}
	if t.ManagementURL != "" {
		m, err := newRabbitManagement(t)
		if err != nil {
			return nil, err
		}
		c.mgmt = m
	}
	return c, nil
}

// Probe opens and closes a channel on the long-lived connection (dialing
// it first if needed), reads the server's identity and blocked state from
// the connection and, with a management URL, asks for resource alarms.
func (c *rabbitClient) Probe(ctx context.Context) (Facts, error) {
	c.pc.probes.Add(1)
	f, err := c.observe(ctx)
	if err != nil {
		c.pc.errors.Add(1)
		return nil, err
	}
	return f, nil
}

func (c *rabbitClient) observe(ctx context.Context) (RabbitMQFacts, error) {
	s, err := c.session(ctx)
	if err != nil {
		return RabbitMQFacts{}, err
	}
	if err := c.openChannel(ctx, s); err != nil {
		if s.alive() || ctx.Err() != nil {
			return RabbitMQFacts{}, err
		}
		// The connection died since the last probe: one fresh try, so the
		// error describes the server now.
		if s, err = c.session(ctx); err != nil {
			return RabbitMQFacts{}, err
		}
		if err := c.openChannel(ctx, s); err != nil {
			return RabbitMQFacts{}, err
		}
	}
	f := RabbitMQFacts{
		Product:     tableString(s.conn.Properties, "product"),
		Version:     tableString(s.conn.Properties, "version"),
		Platform:    tableString(s.conn.Properties, "platform"),
		ClusterName: tableString(s.conn.Properties, "cluster_name"),
		VHost:       c.vhost,
	}
	if reason := s.blocked.Load(); reason != nil {
		f.Blocked, f.BlockedReason = true, *reason
	}
	if c.mgmt != nil {
		f.Management = c.mgmt.checkAll(ctx)
	}
	f.Pool = c.Stats()
	return f, nil
}

// session returns the live connection, dialing a new one when there is
// none.
func (c *rabbitClient) session(ctx context.Context) (*rabbitSession, error) {
	select {
	case c.dialing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.dialing }()
	c.mu.Lock()
	s := c.sess
	c.mu.Unlock()
	if s != nil && s.alive() {
		return s, nil
	}
	s, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if isClosedChan(c.closed) {
		go closeAMQP(s.conn, c.timeout)
		return nil, errClientClosed
	}
	c.sess = s
	return s, nil
}

// dial opens an AMQP connection within ctx and the target's timeout.
func (c *rabbitClient) dial(ctx context.Context) (*rabbitSession, error) {
	if isClosedChan(c.closed) {
		return nil, errClientClosed
	}
	deadline := time.Now().Add(c.timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	stop := func() bool { return true }
	cfg := c.cfg
	cfg.Dial = func(network, addr string) (net.Conn, error) {
		d := net.Dialer{Deadline: deadline}
		conn, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		// Bounds the TLS and AMQP handshakes; amqp091 clears it after.
		_ = conn.SetDeadline(deadline)
		stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
		return conn, nil
	}
	conn, err := amqp.DialConfig(c.url, cfg)
	interrupted := !stop()
	if err != nil {
		// RabbitMQ answers a bad password by waiting about 3s and dropping
		// the socket (amqp091 does not announce authentication_failure_close),
		// and amqp091 reports any drop at that step as ErrCredentials: an
		// authentication failure, whatever deadline cut the wait short.
		if errors.Is(err, amqp.ErrCredentials) {
			return nil, Fail(ErrKindAuth, err)
		}
		if interrupted || !time.Now().Before(deadline) {
			return nil, Fail(ErrKindTimeout, err)
		}
		return nil, classifyAMQP(err)
	}
	if interrupted {
		// ctx ended as the handshake completed: the deadline it set may
		// have outlived the handshake.
		go closeAMQP(conn, c.timeout)
		return nil, ctx.Err()
	}
	s := &rabbitSession{conn: conn, done: make(chan struct{})}
	closes := conn.NotifyClose(make(chan *amqp.Error, 1))
	blocks := conn.NotifyBlocked(make(chan amqp.Blocking, 4))
	go func() {
		for b := range blocks {
			if b.Active {
				reason := b.Reason
				s.blocked.Store(&reason)
			} else {
				s.blocked.Store(nil)
			}
		}
	}()
	go func() {
		s.reason = "rabbitmq connection closed"
		if e, ok := <-closes; ok && e != nil {
			s.reason = "rabbitmq connection closed: " + e.Error()
		}
		close(s.done)
	}()
	return s, nil
}

// openChannel opens and closes a channel within ctx. A connection that
// cannot do that in time is dropped.
func (c *rabbitClient) openChannel(ctx context.Context, s *rabbitSession) error {
	c.pc.inUse.Add(1)
	defer c.pc.inUse.Add(-1)
	done := make(chan error, 1)
	go func() {
		ch, err := s.conn.Channel()
		if err == nil {
			err = ch.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			return classifyAMQP(err)
		}
		return nil
	case <-ctx.Done():
		go closeAMQP(s.conn, c.timeout)
		return fmt.Errorf("rabbitmq channel open: %w", ctx.Err())
	}
}

// Stats reports the client's connection: one open connection (or none)
// and the channels in use by probes.
func (c *rabbitClient) Stats() PoolStats {
	var open int64
	c.mu.Lock()
	if c.sess != nil && c.sess.alive() {
		open = 1
	}
	c.mu.Unlock()
	return c.pc.stats(open)
}

// Close closes the connection and stops the watcher.
func (c *rabbitClient) Close() error {
	c.mu.Lock()
	if isClosedChan(c.closed) {
		c.mu.Unlock()
		return nil
	}
	close(c.closed)
	s := c.sess
	c.mu.Unlock()
	if c.mgmt != nil {
		c.mgmt.close()
	}
	if s != nil && s.alive() {
		closeAMQP(s.conn, c.timeout)
	}
	return nil
}

// closeAMQP closes conn, giving the server at most timeout to answer.
func closeAMQP(conn *amqp.Connection, timeout time.Duration) {
	_ = conn.CloseDeadline(time.Now().Add(min(timeout, 2*time.Second)))
}

// classifyAMQP gives err the kind the broker's reply code tells. Errors
// amqp091 made of an I/O failure are left to Classify.
func classifyAMQP(err error) error {
	if errors.Is(err, amqp.ErrCredentials) || errors.Is(err, amqp.ErrVhost) || errors.Is(err, amqp.ErrSASL) {
		return Fail(ErrKindAuth, err)
	}
	var ae *amqp.Error
	if !errors.As(err, &ae) {
		return err
	}
	if !ae.Server {
		if errors.Is(err, amqp.ErrClosed) {
			return Fail(ErrKindUnavailable, err)
		}
		if ae.Code == amqp.FrameError && strings.Contains(ae.Reason, "parse") {
			return Fail(ErrKindProtocol, err)
		}
		return err
	}
	switch ae.Code {
	case amqp.AccessRefused:
		return Fail(ErrKindAuth, err)
	case amqp.NotAllowed:
		// 530 is a vhost the user may not use, or a connection limit.
		if strings.Contains(strings.ToLower(ae.Reason), "limit") {
			return Fail(ErrKindUnavailable, err)
		}
		return Fail(ErrKindAuth, err)
	case amqp.ConnectionForced, amqp.ResourceError, amqp.InternalError, amqp.ResourceLocked:
		return Fail(ErrKindUnavailable, err)
	}
	return Fail(ErrKindProtocol, err)
}

// tableString reads a string field of an AMQP table ("" when absent).
func tableString(t amqp.Table, key string) string {
	switch v := t[key].(type) {
	case string:
		return v
	case []byte:
		return string(v)
	}
	return ""
}
