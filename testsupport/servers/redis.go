package servers

import (
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Redis is a throwaway redis-server on 127.0.0.1 with no persistence.
type Redis struct {
	// Host and Port address the server.
	Host string
	Port int
	// Password is the requirepass value ("" for none).
	Password string

	t     testing.TB
	dir   string
	extra []string
	tls   *RedisTLS // nil: plain
	proc  process
}

// StartRedis starts a redis-server on a free port, with requirepass set to
// password when it is not empty, and kills it in t.Cleanup. The test is
// skipped when redis-server is not installed.
func StartRedis(t testing.TB, password string) *Redis {
	t.Helper()
	return StartRedisArgs(t, password)
}

// StartRedisArgs is StartRedis with extra redis-server arguments, which
// override the defaults (no persistence): "--appendonly", "yes",
// "--appendfsync", "always" makes a store that a SIGKILL cannot roll back.
// The data directory is kept across Kill and Start.
func StartRedisArgs(t testing.TB, password string, extra ...string) *Redis {
	t.Helper()
	return startRedis(t, &Redis{Password: password, extra: extra})
}

// RedisTLS configures a redis-server that speaks TLS only (--port 0
// --tls-port Port).
type RedisTLS struct {
	// CertFile and KeyFile are the server's certificate and key.
	CertFile, KeyFile string
	// CAFile verifies client certificates.
	CAFile string
	// AuthClients is --tls-auth-clients: require a client certificate.
	AuthClients bool
}

// StartRedisTLS is StartRedis for a server that accepts TLS connections
// only, on Port.
func StartRedisTLS(t testing.TB, password string, cfg RedisTLS) *Redis {
	t.Helper()
	return startRedis(t, &Redis{Password: password, tls: &cfg})
}

// startRedis starts r on a free port with a data directory of its own and
// kills it in t.Cleanup.
func startRedis(t testing.TB, r *Redis) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("servers: redis-server not installed")
	}
	r.Host, r.Port, r.t, r.dir = "127.0.0.1", FreePort(t), t, t.TempDir()
	r.Start()
	t.Cleanup(r.Kill)
	return r
}

// Addr is host:port of the server.
func (r *Redis) Addr() string { return net.JoinHostPort(r.Host, strconv.Itoa(r.Port)) }

// Start (re)starts the server on its port; it fails the test if the server
// does not accept connections within 10s.
func (r *Redis) Start() {
	r.t.Helper()
	r.proc.start(r.t, "redis-server", r.Addr(), 10*time.Second, r.command, func() { r.proc.killLocked(true) })
}

// command is the redis-server command line for r.
func (r *Redis) command() *exec.Cmd {
	args := []string{
		"--port", strconv.Itoa(r.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--daemonize", "no",
		"--dir", r.dir, "--logfile", "",
	}
	if c := r.tls; c != nil {
		auth := "no"
		if c.AuthClients {
			auth = "yes"
		}
		args[1] = "0"
		args = append(args, "--tls-port", strconv.Itoa(r.Port), "--tls-cert-file", c.CertFile,
			"--tls-key-file", c.KeyFile, "--tls-ca-cert-file", c.CAFile, "--tls-auth-clients", auth)
	}
	if r.Password != "" {
		args = append(args, "--requirepass", r.Password)
	}
	args = append(args, r.extra...)
	return exec.Command("redis-server", args...)
}

// Kill sends SIGKILL to the server and waits for it to exit. Killing a
// stopped server does nothing.
func (r *Redis) Kill() { r.proc.kill(true) }
