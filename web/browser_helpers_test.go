package web_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
)

var update = flag.Bool("update", false, "write docs/status-page.png from the browser test")

// chromium is the browser binary: $CHROMIUM, else Debian's. Tests skip
// without it, or fail when DBHEALTH_REQUIRE_ALL=1 (CI).
func chromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("CHROMIUM"), "/usr/bin/chromium", "chromium"} {
		if p == "" {
			continue
		}
		if full, err := exec.LookPath(p); err == nil {
			return full
		}
	}
	msg := "chromium not installed (apt-get install -y chromium): the browser tests need it"
	if os.Getenv("DBHEALTH_REQUIRE_ALL") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// outDir is where screenshots go: $TEST_OUTPUT_DIR, else a temp dir.
func outDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("TEST_OUTPUT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// states are scripted targets the test sets by id ("redis/cache").
type states struct {
	mu sync.Mutex
	m  map[string]probes.State
}

func (s *states) set(id string, st probes.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[id] = st
}

func (s *states) options() service.Options {
	return service.Options{Openers: cluster.ScriptedOpeners(func(id string) probes.State {
		s.mu.Lock()
		defer s.mu.Unlock()
		if st, ok := s.m[id]; ok {
			return st
		}
		return probes.StateUp
	}, func(string) {})}
}

// standalone starts one replica on embedded defaults (no RabbitMQ, no
// Redis) watching the targets of doc.
func standalone(t *testing.T, doc string, st *states, extra map[string]string) *cluster.Replica {
	t.Helper()
	c, env := standaloneEnv(t, doc, extra)
	return c.Start("web", env, st.options()).Run()
}

// standaloneEnv is the deployment and environment of standalone.
func standaloneEnv(t *testing.T, doc string, extra map[string]string) (*cluster.Cluster, map[string]string) {
	t.Helper()
	c := cluster.New(t)
	env := map[string]string{"TARGETS_FILE": c.WriteTargets(doc), "BUS_URL": "", "STORE_URL": "",
		"PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "500ms", "RETRY_INTERVAL": "200ms",
		"FAILURE_THRESHOLD": "1", "SUCCESS_THRESHOLD": "1", "ALERT_REPEAT_INTERVAL": "0"}
	for k, v := range extra {
		env[k] = v
	}
	return c, env
}

// getJSON decodes GET url (with the token, if any) into v.
func getJSON(t *testing.T, u, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", u, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// apiStates is every target's state as GET /api/database/status says.
func apiStates(t *testing.T, base, token string) map[string]string {
	t.Helper()
	var s struct {
		Databases []struct{ Type, Name, State string }
	}
	getJSON(t, base+"/api/database/status", token, &s)
	out := map[string]string{}
	for _, d := range s.Databases {
		out[d.Type+"/"+d.Name] = d.State
	}
	return out
}

// waitFor polls cond every 20ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// browser is one headless chromium tab and what it saw: every request
// URL, console errors and uncaught exceptions.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	urls     []string
	problems []string
	expected []string // console errors the test caused on purpose
}

// expect makes checkClean accept console errors that contain substr.
func (b *browser) expect(substr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expected = append(b.expected, substr)
}

// newBrowser starts headless chromium (1280x900) with one tab.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("chromium: %v", err)
	}
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	console := chromedp.Console(ctx)
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.urls = append(b.urls, ev.Request.URL)
			b.mu.Unlock()
		}
	}()
	go func() {
		for m, err := range console {
			if err != nil {
				return
			}
			// A stream cut on purpose, or ended by leaving the page, is
			// not a fault of the page.
			if m.Type != chromedp.ConsoleError && !m.IsException() || strings.Contains(m.URL, "/api/database/events") || strings.Contains(m.Text, "ERR_ABORTED") {
				continue
			}
			b.mu.Lock()
			b.problems = append(b.problems, m.String()+" "+m.URL)
			b.mu.Unlock()
		}
	}()
	return b
}

// run runs actions in the tab, failing the test on error.
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression (awaiting a promise) in b's page.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("browser: %s: %v", expr, err)
	}
	return v
}

// poll waits until the expression is truthy in the page, or fails after d.
func (b *browser) poll(expr string, d time.Duration) time.Duration {
	b.t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(b.ctx, d+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool]("!!("+expr+")", chromedp.WithPollingTimeout(d), chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
		b.t.Fatalf("page never satisfied %s within %s: %v", expr, d, err)
	}
	return time.Since(start)
}

// screenshot writes a full-page PNG to dir/name and returns its bytes.
func (b *browser) screenshot(dir, name string) []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s (%d bytes)", p, len(png))
	return png
}

// checkClean fails on a console error, an exception or a request to
// anywhere but 127.0.0.1 (data: URLs aside).
func (b *browser) checkClean() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		if !slices.ContainsFunc(b.expected, func(e string) bool { return strings.Contains(p, e) }) {
			b.t.Errorf("browser: %s", p)
		}
	}
	for _, u := range b.urls {
		pu, err := url.Parse(u)
		if err != nil || pu.Scheme == "data" {
			continue
		}
		if pu.Hostname() != "127.0.0.1" {
			b.t.Errorf("a request left 127.0.0.1: %s", u)
		}
	}
	b.t.Logf("browser made %d requests, all to 127.0.0.1", len(b.urls))
}

// axe runs axe-core in the page (from .tools/axe, where .ci/run installs
// it) and fails on every violation; it skips the check without axe-core.
func (b *browser) axe(page string) {
	b.t.Helper()
	src, err := os.ReadFile("../.tools/axe/node_modules/axe-core/axe.min.js")
	if err != nil {
		if os.Getenv("DBHEALTH_REQUIRE_ALL") == "1" {
			b.t.Fatalf("axe-core not installed (npm install --prefix .tools/axe axe-core): %v", err)
		}
		b.t.Logf("axe-core not installed (npm install --prefix .tools/axe axe-core): accessibility not checked")
		return
	}
	type violation struct {
		ID, Impact, Help string
		Nodes            []struct{ Target []any }
	}
	eval[bool](b, string(src)+";true")
	res := eval[[]violation](b, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations)`)
	for _, v := range res {
		b.t.Errorf("axe on %s: %s (%s) %s at %v", page, v.ID, v.Impact, v.Help, v.Nodes)
	}
	b.t.Logf("axe-core on %s: %d violations", page, len(res))
}

// nodeCount is the number of elements matching sel.
func (b *browser) nodeCount(sel string) int {
	b.t.Helper()
	return eval[int](b, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}

// writeFile writes b to dir/name and logs it.
func writeFile(t *testing.T, dir, name string, b []byte) {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s (%d bytes)", p, len(b))
}

// urlsSeen are the URLs of every request the tab made.
func (b *browser) urlsSeen() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.urls...)
}
