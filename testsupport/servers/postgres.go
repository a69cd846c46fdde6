package servers

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Postgres is a throwaway PostgreSQL cluster on 127.0.0.1 that requires a
// password (scram-sha-256) for every connection, local ones included.
type Postgres struct {
	// Host and Port address the server.
	Host string
	Port int
	// User is the superuser ("postgres") and Password its password.
	User     string
	Password string
	// Database is the database that always exists ("postgres").
	Database string

	t       testing.TB
	bin     string
	dir     string
	asUser  *user.User // nil: run the binaries as the current user
	ssl     []string   // server options that turn TLS on
	mu      sync.Mutex
	running bool
}

// StartPostgres initialises a cluster in a fresh temporary directory
// (initdb --auth=scram-sha-256), starts it with pg_ctl on a free port, and
// stops it and removes the directory in t.Cleanup. The test is skipped when
// no PostgreSQL server binaries are installed.
//
// initdb and postgres refuse to run as root: when the test runs as root the
// binaries run as the "postgres" OS user through runuser, in a directory
// owned by that user.
func StartPostgres(t testing.TB, password string) *Postgres {
	t.Helper()
	return startPostgres(t, password, nil)
}

func startPostgres(t testing.TB, password string, tlsCfg *PostgresTLS) *Postgres {
	t.Helper()
	bin := postgresBinDir()
	if bin == "" {
		t.Skip("servers: no PostgreSQL server binaries (initdb, pg_ctl) found")
	}
	p := &Postgres{Host: "127.0.0.1", User: "postgres", Password: password, Database: "postgres", t: t, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("servers: running as root and no postgres OS user to run initdb as")
		}
		p.asUser = u
	}
	// Not t.TempDir: its parent is private to root, and the server may run
	// as another user that must reach this directory.
	dir, err := os.MkdirTemp("", "dbhealth-pg-")
	if err != nil {
		t.Fatalf("servers: postgres temp dir: %v", err)
	}
	p.dir = dir
	t.Cleanup(func() {
		p.Stop()
		_ = os.RemoveAll(dir)
	})
	pwfile := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pwfile, []byte(password+"\n"), 0o600); err != nil {
		t.Fatalf("servers: postgres pwfile: %v", err)
	}
	if p.asUser != nil {
		if err := chownTo(p.asUser, dir, pwfile); err != nil {
			t.Fatalf("servers: postgres chown: %v", err)
		}
	}
	if out, err := p.run("initdb", "-D", p.dataDir(), "-U", p.User, "--auth=scram-sha-256",
		"--pwfile="+pwfile, "--no-sync", "-E", "UTF8", "--locale=C"); err != nil {
		t.Fatalf("servers: initdb: %v\n%s", err, out)
	}
	_ = os.Remove(pwfile)
	if tlsCfg != nil {
		p.setupTLS(*tlsCfg)
	}
	p.Port = FreePort(t)
	p.Start()
	return p
}

// Addr is host:port of the server.
func (p *Postgres) Addr() string { return net.JoinHostPort(p.Host, strconv.Itoa(p.Port)) }

// Start starts the server (again) on its port and waits until it accepts
// connections.
func (p *Postgres) Start() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.running {
		return
	}
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories=%s "+
		"-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB -c max_connections=20",
		p.Port, p.dir)
	for _, o := range p.ssl {
		opts += " -c " + o
	}
	logfile := filepath.Join(p.dir, "server.log")
	if out, err := p.run("pg_ctl", "start", "-D", p.dataDir(), "-l", logfile, "-w", "-t", "30", "-o", opts); err != nil {
		log, _ := os.ReadFile(logfile)
		p.t.Fatalf("servers: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	p.running = true
	if err := waitDial(p.Addr(), 10*time.Second); err != nil {
		p.t.Fatalf("servers: postgres not accepting connections: %v", err)
	}
}

// StopImmediate stops the server with "pg_ctl stop -m immediate": every
// backend is killed at once, as in a crash.
func (p *Postgres) StopImmediate() error { return p.stop("immediate") }

// Stop stops the server with "pg_ctl stop -m fast". Stopping a stopped
// server does nothing.
func (p *Postgres) Stop() { _ = p.stop("fast") }

func (p *Postgres) stop(mode string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.running {
		return nil
	}
	out, err := p.run("pg_ctl", "stop", "-D", p.dataDir(), "-m", mode, "-w", "-t", "30")
	if err != nil {
		return fmt.Errorf("servers: pg_ctl stop -m %s: %w: %s", mode, err, out)
	}
	p.running = false
	return nil
}

func (p *Postgres) dataDir() string { return filepath.Join(p.dir, "data") }

// run runs a PostgreSQL binary, as the postgres OS user when needed.
func (p *Postgres) run(name string, args ...string) ([]byte, error) {
	path := filepath.Join(p.bin, name)
	var cmd *exec.Cmd
	if p.asUser != nil {
		cmd = exec.Command("runuser", append([]string{"-u", p.asUser.Username, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = p.dir
	// pg_ctl start leaves the server running with inherited stdio: give it
	// none, or CombinedOutput would wait for the server to exit.
	cmd.Stdin = nil
	f, err := os.CreateTemp("", "dbhealth-pg-out-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	runErr := cmd.Run()
	out, _ := os.ReadFile(f.Name())
	return out, runErr
}

// postgresBinDir finds the newest /usr/lib/postgresql/<version>/bin that has
// initdb and pg_ctl.
func postgresBinDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if isFile(filepath.Join(d, "initdb")) && isFile(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	return ""
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(strings.Split(filepath.Base(filepath.Dir(binDir)), ".")[0])
	return v
}

func isFile(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}
