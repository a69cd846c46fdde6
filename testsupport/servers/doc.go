// Package servers starts throwaway servers and network fakes for tests that
// must talk to a real protocol peer on loopback: a password-protected
// PostgreSQL cluster (initdb + pg_ctl into a temporary directory), a
// redis-server with requirepass, a TCP listener that accepts and never answers,
// and a TCP proxy whose connections can be paused or cut. Everything listens
// on 127.0.0.1 only and is stopped by t.Cleanup.
package servers
