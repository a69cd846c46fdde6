package servers

import (
	"bytes"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
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
	mu    sync.Mutex
	cmd   *exec.Cmd
	out   *bytes.Buffer
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
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("servers: redis-server not installed")
	}
	r := &Redis{Host: "127.0.0.1", Port: FreePort(t), Password: password, t: t, dir: t.TempDir(), extra: extra}
	r.Start()
	t.Cleanup(r.Kill)
	return r
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
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("servers: redis-server not installed")
	}
	r := &Redis{Host: "127.0.0.1", Port: FreePort(t), Password: password, t: t, dir: t.TempDir(), tls: &cfg}
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
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return
	}
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
	cmd := exec.Command("redis-server", args...)
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		r.t.Fatalf("servers: start redis-server: %v", err)
	}
	r.cmd, r.out = cmd, out
	if err := waitDial(r.Addr(), 10*time.Second); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		r.cmd = nil
		r.t.Fatalf("servers: redis-server did not start: %v\n%s", err, out)
	}
}

// Kill sends SIGKILL to the server and waits for it to exit. Killing a
// stopped server does nothing.
func (r *Redis) Kill() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	_ = r.cmd.Wait()
	r.cmd = nil
}
