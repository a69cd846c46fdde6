package cluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config"
)

// MainPackage is the import path of the service's command.
const MainPackage = "github.com/dbhealth/database-service/cmd/database-service"

// BuildBinary builds the service's binary into the test's temporary
// directory and returns its path.
func BuildBinary(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "database-service")
	out, err := exec.Command("go", "build", "-o", bin, MainPackage).CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Proc is one process of the built binary, logging to a file.
type Proc struct {
	ID  string
	Cmd *exec.Cmd
	// Log is the path of the file its stdout and stderr go to.
	Log  string
	done chan struct{}
}

// StartProc starts bin as replica id in dir (where it finds no .env or
// config/*.env to pick up) with the environment environ. The test's
// cleanup kills it, and shows the end of its log if the test failed.
func StartProc(t testing.TB, bin, id, dir string, environ []string) *Proc {
	t.Helper()
	p := &Proc{ID: id, Log: filepath.Join(dir, fmt.Sprintf("%s-%d.log", id, time.Now().UnixNano())), done: make(chan struct{})}
	logf, err := os.Create(p.Log)
	if err != nil {
		t.Fatal(err)
	}
	p.Cmd = exec.Command(bin)
	p.Cmd.Dir = dir
	p.Cmd.Env = environ
	p.Cmd.Stdout, p.Cmd.Stderr = logf, logf
	if err := p.Cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatalf("start %s: %v", id, err)
	}
	go func() {
		_ = p.Cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			p.DumpLog(t, 40)
		}
	})
	return p
}

// Kill sends SIGKILL and waits for the process to end.
func (p *Proc) Kill() {
	_ = p.Cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// DumpLog writes the last n lines of the process's log to the test log.
func (p *Proc) DumpLog(t testing.TB, n int) {
	t.Helper()
	b, err := os.ReadFile(p.Log)
	if err != nil {
		t.Logf("%s log: %v", p.ID, err)
		return
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	state := "running"
	if p.Exited() {
		state = p.Cmd.ProcessState.String()
	}
	t.Logf("last lines of %s's log (%s):\n%s", p.ID, state, bytes.Join(lines, []byte("\n")))
}

// Environ is the test process's environment without any variable the
// service reads, plus env: a replica sees only what the test gives it.
func Environ(t testing.TB, env map[string]string) []string {
	t.Helper()
	reads := map[string]bool{}
	for k := range env {
		reads[k] = true
	}
	cfg, err := config.Load(config.LoadOptions{Environ: map[string]string{}, Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	for k := range cfg.Sources() {
		reads[k] = true
	}
	var out []string
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !reads[k] {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

// WriteFileAtomic replaces path with content in one rename, as a
// configuration tool would.
func WriteFileAtomic(t testing.TB, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
