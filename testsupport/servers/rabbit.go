package servers

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Rabbit is a RabbitMQ node of a test's own on 127.0.0.1 (a second node
// beside the machine's), for faults of the whole broker: SIGKILL, restart,
// lost definitions.
type Rabbit struct {
	// Port is the AMQP port.
	Port int

	t    testing.TB
	dir  string
	name string
	dist int
	proc process
}

// StartRabbit starts a node on free ports with its own directory and kills
// it in t.Cleanup. The test is skipped when rabbitmq-server is missing.
// The Debian wrapper runs the node as the rabbitmq user, so the directory
// belongs to that user.
func StartRabbit(t testing.TB) *Rabbit {
	t.Helper()
	if _, err := exec.LookPath("rabbitmq-server"); err != nil {
		t.Skip("servers: rabbitmq-server not installed")
	}
	dir, err := os.MkdirTemp("", "rabbit-node-")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := user.Lookup("rabbitmq"); err == nil {
		if err := chownTo(u, dir); err != nil {
			t.Fatalf("servers: chown %s: %v", dir, err)
		}
	}
	r := &Rabbit{Port: FreePort(t), dist: FreePort(t), t: t, dir: dir,
		name: fmt.Sprintf("t%d@localhost", FreePort(t))}
	t.Cleanup(func() {
		r.Kill()
		if t.Failed() {
			r.logTail(60)
		}
		_ = os.RemoveAll(dir)
	})
	r.Start()
	return r
}

// URL is the AMQP URL of the node (guest may log in over loopback).
func (r *Rabbit) URL() string { return r.Endpoint().URL() }

// Endpoint is the node as an Endpoint, to reach it through a Proxy.
func (r *Rabbit) Endpoint() Endpoint {
	return Endpoint{u: url.URL{Scheme: "amqp", User: url.UserPassword("guest", "guest"), Host: r.Addr(), Path: "/"}}
}

// Addr is host:port of the AMQP listener.
func (r *Rabbit) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.Port) }

// Start (re)starts the node on its ports and directory; it fails the test
// if the node does not accept AMQP connections within 60s.
func (r *Rabbit) Start() {
	r.t.Helper()
	r.proc.start(r.t, "rabbitmq node", r.Addr(), 60*time.Second, r.command, r.killLocked)
}

// command is the rabbitmq-server command with r's ports, name and files.
func (r *Rabbit) command() *exec.Cmd {
	cmd := exec.Command("rabbitmq-server")
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(),
		"RABBITMQ_NODENAME="+r.name,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT="+strconv.Itoa(r.Port),
		"RABBITMQ_DIST_PORT="+strconv.Itoa(r.dist),
		"RABBITMQ_MNESIA_BASE="+filepath.Join(r.dir, "mnesia"),
		"RABBITMQ_LOG_BASE="+filepath.Join(r.dir, "log"),
		"RABBITMQ_ENABLED_PLUGINS_FILE="+filepath.Join(r.dir, "plugins"),
		"RABBITMQ_FEATURE_FLAGS_FILE="+filepath.Join(r.dir, "ff"),
		"RABBITMQ_PID_FILE="+filepath.Join(r.dir, "pid"),
		"RABBITMQ_CONFIG_FILE="+filepath.Join(r.dir, "rabbitmq"),
	)
	return cmd
}

var pidRE = regexp.MustCompile(`pid=(\d+)`)

// Kill sends SIGKILL to the node (the Erlang VM, which leaves the
// wrapper's process group: found by the port it listens on) and waits
// until the port is closed. Killing a stopped node does nothing.
func (r *Rabbit) Kill() {
	r.proc.mu.Lock()
	defer r.proc.mu.Unlock()
	r.killLocked()
}

// killLocked kills the node; the caller holds r.proc.mu. The wrapper is not
// waited for: the Erlang VM it started may hold its output open.
func (r *Rabbit) killLocked() {
	if r.proc.cmd == nil {
		return
	}
	for range 100 {
		out, _ := exec.Command("ss", "-Hltnp", fmt.Sprintf("sport = :%d", r.Port)).Output()
		m := pidRE.FindSubmatch(out)
		if m == nil {
			break
		}
		if pid, err := strconv.Atoi(string(m[1])); err == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.proc.killLocked(false)
}

// SyncRaDirectory flushes the node's registry of quorum queue servers to
// disk. RabbitMQ 3.10 keeps it in a dets table saved only after 500 ms
// without access, which a busy node may never reach: a quorum queue
// declared shortly before a SIGKILL then comes back without its Ra server
// and stays leaderless (rabbitmq-server#10070), every publish routed to it
// unconfirmed. A broker that has run for a while has flushed it; a test
// that SIGKILLs a node seconds after its queues were declared calls this
// first, so that it measures the service and not that broker bug.
func (r *Rabbit) SyncRaDirectory() {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "rabbitmqctl", "-n", r.name, "eval", "dets:sync(ra_directory_reverse).").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "ok") {
		r.t.Fatalf("servers: sync the Ra directory of %s: %v\n%s", r.name, err, out)
	}
}

// Forget deletes the node's definitions and messages (its mnesia
// directory), as a broker replaced by a fresh one loses them. Call it
// while the node is stopped.
func (r *Rabbit) Forget() {
	if err := os.RemoveAll(filepath.Join(r.dir, "mnesia")); err != nil {
		r.t.Fatalf("servers: forget the definitions: %v", err)
	}
}

// logTail shows the last n warning and error lines of the node's logs, to
// tell a broker fault from a client one when a test failed.
func (r *Rabbit) logTail(n int) {
	files, _ := filepath.Glob(filepath.Join(r.dir, "log", "*.log"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var keep []string
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "[warning]") || strings.Contains(line, "[error]") || strings.Contains(line, "crash") {
				keep = append(keep, line)
			}
		}
		if len(keep) > n {
			keep = keep[len(keep)-n:]
		}
		r.t.Logf("rabbitmq node %s: last %d warning/error lines of %s:\n%s", r.name, len(keep), filepath.Base(f), strings.Join(keep, "\n"))
	}
}
