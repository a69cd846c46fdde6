package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// redisPoolSize is the size of a target's pool: a probe needs one
// connection, the second covers an overlapping manual probe.
const redisPoolSize = 2

// redisClient is the long-lived go-redis client of one Redis target.
type redisClient struct {
	rdb     *redis.Client
	opt     *redis.Options
	channel string
	errs    atomic.Int64

	closeOnce sync.Once
	closed    chan struct{}
}

// OpenRedis returns the client of a Redis target. It connects on first use.
func OpenRedis(_ context.Context, t Target) (Client, error) {
	timeout := targetTimeout(t)
	opt := &redis.Options{
		Addr:     t.Addr(),
		Username: t.Username,
		Password: t.Password.Reveal(),
		DB:       t.DB,
		// RESP2 reads the same on every server version and proxy.
		Protocol: 2,
		PoolSize: redisPoolSize,
		// Pipelines share the small pool instead of a dedicated one.
		PipelinePoolSize:      -1,
		DialTimeout:           timeout,
		ReadTimeout:           timeout,
		WriteTimeout:          timeout,
		ContextTimeoutEnabled: true,
		// A probe reports what it saw: the client must not retry.
		MaxRetries:               -1,
		DialerRetries:            1,
		DisableIdentity:          true,
		MaintNotificationsConfig: &maintnotifications.Config{Mode: maintnotifications.ModeDisabled},
	}
	if t.TLS {
		opt.TLSConfig = &tls.Config{ServerName: t.Host, MinVersion: tls.VersionTLS12}
	}
	return &redisClient{
		rdb:     redis.NewClient(opt),
		opt:     opt,
		channel: "database-service:watch",
		closed:  make(chan struct{}),
	}, nil
}

// Probe sends PING and INFO in one round trip. A pooled connection that
// died since its last use is retried once on a new one.
func (c *redisClient) Probe(ctx context.Context) (Facts, error) {
	f, err := c.observe(ctx)
	if err != nil && redisStaleConn(err) && ctx.Err() == nil {
		f, err = c.observe(ctx)
	}
	if err != nil {
		c.errs.Add(1)
		return nil, classifyRedis(err)
	}
	f.Pool = c.Stats()
	return f, nil
}

func (c *redisClient) observe(ctx context.Context) (RedisFacts, error) {
	var (
		ping *redis.StatusCmd
		info *redis.StringCmd
	)
	_, err := c.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		ping = p.Ping(ctx)
		info = p.Info(ctx)
		return nil
	})
	// A connection that failed (dial, AUTH) fails the pipeline without
	// setting an error on its commands.
	if err != nil && ping.Err() == nil && info.Err() == nil {
		return RedisFacts{}, err
	}
	if err := info.Err(); err != nil {
		return RedisFacts{}, err
	}
	f := redisFactsFromInfo(parseRedisInfo(info.Val()))
	// A server loading its dataset answers PING with LOADING; INFO still
	// works and the facts say loading.
	if err := ping.Err(); err != nil && !(f.Loading && redisErrorCode(err) == "LOADING") {
		return f, err
	}
	if f.MaxClients == 0 {
		// Before 7.0 INFO has no maxclients; CONFIG may be denied by ACLs,
		// and then the ratio is simply not judged.
		if kv, err := c.rdb.ConfigGet(ctx, "maxclients").Result(); err == nil {
			f.MaxClients, _ = strconv.ParseInt(kv["maxclients"], 10, 64)
		}
	}
	return f, nil
}

// Stats reports the pool's statistics (the watch connection is not part
// of the pool).
func (c *redisClient) Stats() PoolStats {
	s := c.rdb.PoolStats()
	return PoolStats{
		Open:     int64(s.TotalConns),
		Idle:     int64(s.IdleConns),
		InUse:    max(int64(s.TotalConns)-int64(s.IdleConns), 0),
		Acquires: int64(s.Hits) + int64(s.Misses),
		Errors:   c.errs.Load(),
	}
}

// Close closes the pool and stops the watcher.
func (c *redisClient) Close() error {
	var err error
	c.closeOnce.Do(func() {
		close(c.closed)
		err = c.rdb.Close()
	})
	return err
}

// redisErrorCode is the first word of a Redis error reply ("WRONGPASS",
// "LOADING", ...), or "" when err is not one.
func redisErrorCode(err error) string {
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return ""
	}
	code, _, _ := strings.Cut(rerr.Error(), " ")
	return code
}

// redisStaleConn reports whether err is a failure of the connection itself
// rather than the server's answer or a timeout.
func redisStaleConn(err error) bool {
	if redisErrorCode(err) != "" {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "dial" {
		return false // a new connection failed: nothing stale to retry
	}
	return !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled)
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
	// Older servers: "ERR invalid password", "ERR AUTH <password> called
	// without any password configured ...".
	if msg := strings.ToLower(err.Error()); strings.Contains(msg, "password") || strings.Contains(msg, "auth") {
		return Fail(ErrKindAuth, err)
	}
	return Fail(ErrKindProtocol, err)
}
