package servers

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// process is a server process of a test's own that can be killed and
// started again on the same port.
type process struct {
	mu   sync.Mutex
	cmd  *exec.Cmd     // nil: not running
	out  *bytes.Buffer // the process's stdout and stderr
	done chan struct{} // closed when cmd has been waited for
}

// start runs the command newCmd builds, unless one already runs, and waits
// up to timeout for addr to accept TCP connections. If it does not, killed
// (called with p.mu held) stops the process and the test fails.
func (p *process) start(t testing.TB, name, addr string, timeout time.Duration, newCmd func() *exec.Cmd, killed func()) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	cmd := newCmd()
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("servers: start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.cmd, p.out, p.done = cmd, out, done
	if err := waitDial(addr, timeout); err != nil {
		killed()
		t.Fatalf("servers: %s did not start: %v\n%s", name, err, out)
	}
}

// kill is killLocked for a caller that does not hold p.mu.
func (p *process) kill(wait bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.killLocked(wait)
}

// killLocked sends SIGKILL to the process, if one runs, and with wait set
// waits until it has exited. The caller holds p.mu.
func (p *process) killLocked(wait bool) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	if wait {
		<-p.done
	}
	p.cmd = nil
}

// chownTo gives paths to the OS user u.
func chownTo(u *user.User, paths ...string) error {
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	for _, path := range paths {
		if err := os.Chown(path, uid, gid); err != nil {
			return err
		}
	}
	return nil
}
