// Package alertmanager runs a real Prometheus Alertmanager for tests: a
// single instance on free loopback ports, gossip disabled, its storage in
// the test's temporary directory, routing every alert to one webhook.
//
// The binary is $DBHEALTH_ALERTMANAGER_BIN, else prometheus-alertmanager
// (Debian's package) or alertmanager on $PATH. Without it the test is
// skipped, unless DBHEALTH_REQUIRE_ALL=1, which makes it fail.
package alertmanager

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/logrec"
)

// Options configure the instance. Zero durations take the defaults shown.
type Options struct {
	// WebhookURL receives every notification (webhook_configs, with
	// send_resolved). Required.
	WebhookURL string
	// GroupWait (100ms), GroupInterval (1s) and RepeatInterval (1h) of
	// the root route, which groups by alertname, database_type and target.
	GroupWait, GroupInterval, RepeatInterval time.Duration
}

// Instance is a running Alertmanager.
type Instance struct {
	// URL is its base URL, "http://127.0.0.1:<port>".
	URL string
	cmd *exec.Cmd
	out *logrec.Buffer
}

// Binary returns the path of the Alertmanager binary, or "" when there is
// none (or $DBHEALTH_ALERTMANAGER_BIN names a file that does not exist).
func Binary() string {
	if p := os.Getenv("DBHEALTH_ALERTMANAGER_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return ""
		}
		return p
	}
	for _, name := range []string{"prometheus-alertmanager", "alertmanager"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if _, err := os.Stat("/usr/bin/prometheus-alertmanager"); err == nil {
		return "/usr/bin/prometheus-alertmanager"
	}
	return ""
}

// Start runs an Alertmanager until the test ends. It returns once
// /-/ready answers 200.
func Start(t testing.TB, opts Options) *Instance {
	t.Helper()
	bin := Binary()
	if bin == "" {
		msg := "alertmanager: no Alertmanager binary (apt-get install prometheus-alertmanager, or set DBHEALTH_ALERTMANAGER_BIN)"
		if os.Getenv("DBHEALTH_REQUIRE_ALL") == "1" {
			t.Fatal(msg + "; DBHEALTH_REQUIRE_ALL=1 forbids skipping")
		}
		t.Skip(msg)
	}
	if opts.WebhookURL == "" {
		t.Fatal("alertmanager: Options.WebhookURL is required")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfg, []byte(config(opts)), 0o600); err != nil {
		t.Fatal(err)
	}
	var last error
	for range 3 { // a free port can be taken between probe and bind
		inst, err := start(t, bin, cfg, dir)
		if err == nil {
			return inst
		}
		last = err
	}
	t.Fatalf("alertmanager: %v", last)
	return nil
}

func start(t testing.TB, bin, cfg, dir string) (*Instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	out := &logrec.Buffer{}
	cmd := exec.Command(bin,
		"--config.file="+cfg,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=",
		"--log.level=info",
	)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	inst := &Instance{URL: "http://" + addr, cmd: cmd, out: out}
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	if err := waitReady(inst.URL+"/-/ready", exited, 20*time.Second); err != nil {
		stop()
		return nil, fmt.Errorf("%w; output:\n%s", err, out.String())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("alertmanager output:\n%s", out.String())
		}
	})
	return inst, nil
}

// Output is what the process has logged so far.
func (i *Instance) Output() string { return i.out.String() }

func waitReady(url string, exited <-chan struct{}, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("exited before %s was ready", url)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %v", url, limit)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func config(o Options) string {
	d := func(v, def time.Duration) string {
		if v == 0 {
			v = def
		}
		return strconv.FormatInt(v.Milliseconds(), 10) + "ms"
	}
	return fmt.Sprintf(`route:
  receiver: test
  group_by: [alertname, database_type, target]
  group_wait: %s
  group_interval: %s
  repeat_interval: %s
receivers:
  - name: test
    webhook_configs:
      - url: %q
        send_resolved: true
`, d(o.GroupWait, 100*time.Millisecond), d(o.GroupInterval, time.Second), d(o.RepeatInterval, time.Hour), o.WebhookURL)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
