package probes

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresMaxConns is the size of a target's pool: a probe needs one
// connection, the second covers an overlapping manual probe.
const postgresMaxConns = 2

// postgresProbeSQL observes everything in one round trip. Lag is NULL on a
// primary, 0 on a replica that has replayed all it received, else the age of
// the last replayed transaction.
const postgresProbeSQL = `SELECT
	current_setting('server_version'),
	current_setting('max_connections')::int,
	current_setting('superuser_reserved_connections')::int,
	(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int,
	pg_is_in_recovery(),
	CASE
		WHEN NOT pg_is_in_recovery() THEN NULL
		WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
		ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
	END::float8,
	EXTRACT(EPOCH FROM now() - pg_postmaster_start_time())::float8`

// postgresClient is the long-lived pgx pool of one PostgreSQL target.
type postgresClient struct {
	pool    *pgxpool.Pool
	cfg     *pgxpool.Config
	tls     bool
	timeout time.Duration
	errs    atomic.Int64
	closed  *closeSignal
}

// OpenPostgres returns the client of a PostgreSQL target: a small pgx pool
// that connects on first use. The password is set on the parsed
// configuration, never written into a DSN.
func OpenPostgres(ctx context.Context, t Target) (Client, error) {
	cfg, err := postgresConfig(t)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, Fail(ErrKindConfig, fmt.Errorf("postgres pool: %w", err))
	}
	return &postgresClient{pool: pool, cfg: cfg, tls: t.TLS.Enabled(), timeout: targetTimeout(t), closed: newCloseSignal()}, nil
}

// postgresConfig builds the pool configuration of t.
func postgresConfig(t Target) (*pgxpool.Config, error) {
	tlsCfg, err := tlsConfig(t)
	if err != nil {
		return nil, err
	}
	// The DSN always says sslmode=disable; the TLS configuration is set
	// below from t.TLS, with no fallback: "prefer" would try TLS first and
	// report both attempts in every error, and a verify-* mode must never
	// end up in plain text.
	kv := [][2]string{
		{"host", t.Host},
		{"user", t.Username},
		{"dbname", t.Database},
		{"sslmode", "disable"},
		{"application_name", "database-service"},
	}
	if t.Port > 0 {
		kv = append(kv, [2]string{"port", strconv.Itoa(t.Port)})
	}
	var dsn strings.Builder
	for _, p := range kv {
		if p[1] == "" {
			continue
		}
		fmt.Fprintf(&dsn, "%s=%s ", p[0], quoteDSNValue(p[1]))
	}
	cfg, err := pgxpool.ParseConfig(dsn.String())
	if err != nil {
		// The DSN holds no password, so its error may be shown as is.
		return nil, Fail(ErrKindConfig, fmt.Errorf("postgres config: %w", err))
	}
	cfg.ConnConfig.Password = t.Password.Reveal()
	cfg.ConnConfig.TLSConfig = tlsCfg
	cfg.ConnConfig.Fallbacks = nil
	cfg.ConnConfig.ConnectTimeout = targetTimeout(t)
	// The simple protocol answers the probe query in one round trip and
	// works behind transaction-pooling proxies.
	cfg.ConnConfig.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	cfg.MaxConns = postgresMaxConns
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	return cfg, nil
}

// quoteDSNValue quotes v for a key/value connection string.
func quoteDSNValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Probe runs the one observation query. A pooled connection that died
// since its last use fails before anything reaches the server; the query is
// then retried once on a new connection, so that the error describes the
// server now, not the corpse of an old connection.
func (c *postgresClient) Probe(ctx context.Context) (Facts, error) {
	f, err := c.query(ctx)
	var connectErr *pgconn.ConnectError
	if err != nil && pgconn.SafeToRetry(err) && !errors.As(err, &connectErr) && ctx.Err() == nil {
		f, err = c.query(ctx)
	}
	if err != nil {
		c.errs.Add(1)
		return nil, classifyPostgres(err, c.tls)
	}
	f.Pool = c.Stats()
	return f, nil
}

func (c *postgresClient) query(ctx context.Context) (PostgresFacts, error) {
	var f PostgresFacts
	err := c.pool.QueryRow(ctx, postgresProbeSQL).Scan(
		&f.Version, &f.MaxConnections, &f.ReservedConnections, &f.ConnectionsInUse,
		&f.InRecovery, &f.ReplicaLagSeconds, &f.UptimeSeconds)
	return f, err
}

// Stats reports the pool's statistics.
func (c *postgresClient) Stats() PoolStats {
	s := c.pool.Stat()
	return PoolStats{
		Open:     int64(s.TotalConns()),
		Idle:     int64(s.IdleConns()),
		InUse:    int64(s.AcquiredConns()),
		Acquires: s.AcquireCount(),
		Errors:   c.errs.Load(),
	}
}

// Close closes the pool and stops the watcher.
func (c *postgresClient) Close() error {
	c.closed.close(c.pool.Close)
	return nil
}

// PostgreSQL error codes the probe tells apart.
const (
	pgInvalidPassword      = "28P01"
	pgInvalidAuthorization = "28000"
	pgInsufficientPriv     = "42501"
	pgInvalidCatalogName   = "3D000"
	pgTooManyConnections   = "53300"
)

// classifyPostgres gives err the kind the server's SQLSTATE tells.
// tlsRequired says whether the target demanded TLS.
func classifyPostgres(err error, tlsRequired bool) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == pgInvalidPassword, pgErr.Code == pgInvalidAuthorization, pgErr.Code == pgInsufficientPriv:
			return Fail(ErrKindAuth, err)
		case pgErr.Code == pgInvalidCatalogName:
			return Fail(ErrKindConfig, err)
		case pgErr.Code == pgTooManyConnections,
			strings.HasPrefix(pgErr.Code, "08"), // connection exception
			strings.HasPrefix(pgErr.Code, "57"), // operator intervention: shutdown, starting up
			strings.HasPrefix(pgErr.Code, "53"): // insufficient resources
			return Fail(ErrKindUnavailable, err)
		}
		return Fail(ErrKindProtocol, err)
	}
	if tlsRequired && strings.Contains(err.Error(), "server refused TLS connection") {
		return Fail(ErrKindTLS, err)
	}
	return err
}
