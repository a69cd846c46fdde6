package bus

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/config/secret"
)

// Errors of the AMQP transport.
var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("bus: closed")
	// ErrBlocked is reported by Check while the broker blocks publishing
	// (memory or disk alarm).
	ErrBlocked = errors.New("bus: broker blocks publishing (resource alarm)")
	// ErrDisconnected is reported by Check while a connection is down.
	ErrDisconnected = errors.New("bus: not connected to the broker")
)

// dialTimeout bounds the TCP connect plus the TLS and AMQP handshakes.
const dialTimeout = 10 * time.Second

// connection keeps one AMQP connection open: it dials in the background,
// and redials with capped exponential backoff after the broker or the
// network drops it. Channels are opened by its users, who must reopen them
// after a drop.
type connection struct {
	url       secret.String
	name      string
	heartbeat time.Duration
	log       *slog.Logger
	onRedial  func()
	// onConnect runs on every new connection before anyone can use it
	// (the publishing connection declares the topology there).
	onConnect func(*amqp.Connection) error

	mu   sync.Mutex
	conn *amqp.Connection // nil while down
	up   chan struct{}    // closed while conn is set; replaced when it drops

	blocked atomic.Bool
	lastErr atomic.Pointer[error] // of the last failed dial
	done    chan struct{}
	ctx     context.Context // cancelled by close, bounds dials
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	once    sync.Once
}

// newConnection makes a connection named name (shown by the broker as
// connection_name) to url; start starts dialling, and it is usable once up
// is closed.
func newConnection(url secret.String, name string, heartbeat time.Duration, log *slog.Logger, onRedial func()) *connection {
	ctx, cancel := context.WithCancel(context.Background())
	c := &connection{
		url: url, name: name, heartbeat: heartbeat, onRedial: onRedial,
		log: log.With("connection", name),
		up:  make(chan struct{}), done: make(chan struct{}), ctx: ctx, cancel: cancel,
	}
	return c
}

// start starts dialling (and redialling) in the background.
func (c *connection) start() *connection {
	c.wg.Add(1)
	go c.supervise()
	return c
}

// get returns the open connection, waiting for it until ctx ends.
func (c *connection) get(ctx context.Context) (*amqp.Connection, error) {
	for {
		c.mu.Lock()
		conn, up := c.conn, c.up
		c.mu.Unlock()
		if conn != nil {
			if !conn.IsClosed() {
				return conn, nil
			}
			c.markDown(conn)
			continue
		}
		select {
		case <-up:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-c.done:
			return nil, ErrClosed
		}
	}
}

// lastError is the error of the last failed dial, if any.
func (c *connection) lastError() error {
	if p := c.lastErr.Load(); p != nil {
		return *p
	}
	return nil
}

// check reports whether the connection is usable right now.
func (c *connection) check() error {
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	switch {
	case conn == nil || conn.IsClosed():
		return ErrDisconnected
	case c.blocked.Load():
		return ErrBlocked
	}
	return nil
}

// channel opens a channel on the connection, waiting for it until ctx ends.
func (c *connection) channel(ctx context.Context) (*amqp.Channel, error) {
	conn, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		c.markDown(conn)
		return nil, err
	}
	return ch, nil
}

func (c *connection) markDown(old *amqp.Connection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == old && old != nil {
		c.conn = nil
		c.up = make(chan struct{})
	}
}

func (c *connection) set(conn *amqp.Connection) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.conn = conn
	close(c.up)
}

// supervise dials, then waits for the connection to drop and redials,
// until close.
func (c *connection) supervise() {
	defer c.wg.Done()
	for attempt := 0; ; attempt++ {
		conn := c.dialLoop(attempt > 0)
		if conn == nil {
			return // closing
		}
		closed := conn.NotifyClose(make(chan *amqp.Error, 1))
		blocks := conn.NotifyBlocked(make(chan amqp.Blocking, 4))
		c.wg.Add(1)
		go c.watchBlocked(blocks)
		if c.onConnect != nil {
			if err := c.onConnect(conn); err != nil {
				c.log.Error("bus topology declaration failed on the new connection", "err", c.scrub(err))
			}
		}
		c.set(conn)
		select {
		case <-c.done:
			_ = conn.CloseDeadline(time.Now().Add(time.Second))
			c.markDown(conn)
			return
		case err := <-closed:
			c.markDown(conn)
			if err != nil {
				c.log.Warn("bus connection lost, reconnecting", "err", c.scrub(err))
			} else {
				c.log.Warn("bus connection lost, reconnecting")
			}
		}
	}
}

// watchBlocked tracks connection.blocked / unblocked until the connection
// ends (amqp091 closes the channel then).
func (c *connection) watchBlocked(blocks <-chan amqp.Blocking) {
	defer c.wg.Done()
	for b := range blocks {
		c.blocked.Store(b.Active)
		if b.Active {
			c.log.Warn("bus broker blocks publishing", "reason", b.Reason)
		} else {
			c.log.Info("bus broker unblocked publishing")
		}
	}
	c.blocked.Store(false)
}

// dialLoop dials until it succeeds or the connection is closed (nil).
func (c *connection) dialLoop(redial bool) *amqp.Connection {
	backoff := 100 * time.Millisecond
	for {
		conn, err := c.dial()
		if err == nil {
			if redial {
				c.log.Info("bus connection restored")
				if c.onRedial != nil {
					c.onRedial()
				}
			}
			return conn
		}
		c.lastErr.Store(&err)
		c.log.Warn("bus dial failed", "url", RedactURL(c.url), "err", err, "retry_in", backoff)
		// Full jitter keeps replicas from redialing in lockstep.
		wait := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-c.done:
			return nil
		case <-time.After(wait):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// dial opens one connection; its error never contains the password.
func (c *connection) dial() (*amqp.Connection, error) {
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(c.name)
	cfg := amqp.Config{
		Heartbeat:  c.heartbeat,
		Properties: props,
		Dial: func(network, addr string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(c.ctx, dialTimeout)
			defer cancel()
			var d net.Dialer
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Bounds the TLS and AMQP handshakes; amqp091 clears it once open.
			if err := conn.SetDeadline(time.Now().Add(dialTimeout)); err != nil {
				_ = conn.Close()
				return nil, err
			}
			return conn, nil
		},
	}
	conn, err := amqp.DialConfig(c.url.Reveal(), cfg)
	if err != nil {
		return nil, c.scrub(err)
	}
	return conn, nil
}

// scrub returns err with the URL's password masked in its message.
func (c *connection) scrub(err error) error {
	return scrubError(err, c.url)
}

// close closes the connection and stops redialing.
func (c *connection) close() {
	c.once.Do(func() {
		close(c.done)
		c.cancel()
	})
	c.wg.Wait()
}

// scrubbedError keeps an error's identity (errors.Is/As) while its message
// has the password masked.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

func scrubError(err error, url secret.String) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := secret.Scrub(msg, password(url), url)
	if clean == msg {
		return err
	}
	return &scrubbedError{msg: clean, err: err}
}
