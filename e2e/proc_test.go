//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/servers"
)

// proc is one process of the built binary, reaching the broker and the
// store through proxies of its own.
type proc struct {
	id            string
	port          int
	url           string
	broker, store *servers.Proxy
	cmd           *exec.Cmd
	log           string
	done          chan struct{}
}

// startProc starts replica id of w, logging to a file; the test's cleanup
// kills it and shows the end of its log if the test failed.
func startProc(w *world, id string) *proc {
	t := w.t
	t.Helper()
	port := servers.FreePort(t)
	p := &proc{
		id: id, port: port, url: fmt.Sprintf("http://127.0.0.1:%d", port),
		broker: servers.StartProxy(t, w.rabbit.Addr()), store: servers.StartProxy(t, w.store.Addr()),
		log: filepath.Join(w.dir, fmt.Sprintf("%s-%d.log", id, time.Now().UnixNano())), done: make(chan struct{}),
	}
	logf, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(w.bin)
	p.cmd.Dir = w.dir // no .env or config/*.env to pick up
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + w.dir}
	for k, v := range w.env(id, p) {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatalf("start %s: %v", id, err)
	}
	go func() {
		_ = p.cmd.Wait()
		_ = logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			p.dumpLog(t)
		}
	})
	return p
}

// kill sends SIGKILL and waits for the process to end.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// dumpLog writes the end of the process's log to the test log.
func (p *proc) dumpLog(t *testing.T) {
	b, err := os.ReadFile(p.log)
	if err != nil {
		t.Logf("%s log: %v", p.id, err)
		return
	}
	lines := bytes.Split(bytes.TrimSpace(b), []byte("\n"))
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	t.Logf("last lines of %s's log:\n%s", p.id, bytes.Join(lines, []byte("\n")))
}

var client = &http.Client{Timeout: 3 * time.Second}

// httpGet GETs url and decodes a JSON body into v (when not nil).
func httpGet(url string, v any) (int, error) {
	res, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if v != nil && res.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			return res.StatusCode, fmt.Errorf("%s: %w", url, err)
		}
	}
	return res.StatusCode, nil
}
