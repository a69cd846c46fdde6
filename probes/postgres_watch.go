package probes

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// postgresWatchChannel is the LISTEN channel of the watch connection;
// nothing needs to notify on it, the LISTEN keeps the session meaningful.
const postgresWatchChannel = "database_service_watch"

// watchIdleCheck is how long a watch connection may stay silent before the
// watcher pings it, so that a half-open connection is noticed too.
const watchIdleCheck = 30 * time.Second

// Watch holds a dedicated connection (outside the pool) that LISTENs and
// waits for notifications. A server that goes away ends the wait at once:
// lost is called and the connection is re-established with backoff. Watch
// returns when ctx is done or the client is closed.
func (c *postgresClient) Watch(ctx context.Context, lost func(reason string)) {
	ctx, cancel := untilClosed(ctx, c.closed.done())
	defer cancel()
	watchLoop(ctx, func(reason string) {
		// The pooled connections died with the watched one: drop them so
		// that the probe this loss triggers dials afresh.
		c.pool.Reset()
		lost(reason)
	}, c.watchOnce)
}

// watchOnce connects, LISTENs and waits until the connection is lost.
func (c *postgresClient) watchOnce(ctx context.Context) (bool, string) {
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, c.cfg.ConnConfig.Copy())
	if err != nil {
		return false, ""
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(closeCtx)
	}()
	if _, err := conn.Exec(cctx, "LISTEN "+postgresWatchChannel); err != nil {
		return false, ""
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, watchIdleCheck)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return true, ""
		case err == nil:
			continue // someone notified; keep waiting
		case !pgconn.Timeout(err) || conn.IsClosed():
			return true, "postgres watch connection lost: " + err.Error()
		}
		pctx, cancel := context.WithTimeout(ctx, c.timeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			return true, "postgres watch connection lost: " + err.Error()
		}
	}
}
