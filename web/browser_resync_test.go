package web_test

import (
	"bytes"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// TestStatusPageKeepsNewerTransition: when the page catches up after a
// reconnect, its status snapshot may be older than a transition the
// stream delivers meanwhile. The front here holds the snapshot (taken
// while the target was UP) until the page has shown the newer DOWN; the
// page must keep DOWN when the stale snapshot arrives.
func TestStatusPageKeepsNewerTransition(t *testing.T) {
	st := &states{m: map[string]probes.State{}}
	c, env := standaloneEnv(t, "targets:\n  - {name: cache, type: redis, host: 127.0.0.1, port: 1}\n", nil)
	r := c.Start("web", env, st.options()).Run()
	waitFor(t, 20*time.Second, "cache UP", func() bool { return apiStates(t, r.URL, "")["redis/cache"] == "UP" })

	// browser -> front (holds a snapshot) -> a TCP proxy the test cuts ->
	// the replica.
	link := servers.StartProxy(t, strings.TrimPrefix(r.URL, "http://"))
	var armed atomic.Bool
	taken, release := make(chan struct{}), make(chan struct{})
	up, _ := url.Parse("http://" + link.Addr())
	front := httptest.NewServer(&httputil.ReverseProxy{FlushInterval: -1, ErrorLog: log.New(io.Discard, "", 0),
		Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(up) },
		ModifyResponse: func(res *http.Response) error {
			if res.Request.URL.Path != "/api/database/status" || !armed.CompareAndSwap(true, false) {
				return nil
			}
			body, err := io.ReadAll(res.Body) // the snapshot, as the replica had it
			res.Body.Close()
			close(taken)
			<-release
			res.Body = io.NopCloser(bytes.NewReader(body))
			return err
		}})
	t.Cleanup(front.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})

	b := newBrowser(t)
	b.expect("502 (Bad Gateway)") // the page's reconnects while the link is cut
	b.run(chromedp.Navigate(front.URL + "/"))
	b.poll(`document.documentElement.dataset.live === "on" && `+rowState("redis/cache")+` === "UP"`, 5*time.Second)

	// Cut the page's stream: it reconnects and catches up with a status
	// read the front holds.
	armed.Store(true)
	link.SetRefuse(true)
	link.Cut()
	b.poll(`document.documentElement.dataset.live === "off"`, 5*time.Second)
	link.SetRefuse(false)
	select {
	case <-taken:
	case <-time.After(10 * time.Second):
		t.Fatal("the page did not read the status again after its reconnect")
	}
	st.set("redis/cache", probes.StateDown)
	waitFor(t, 10*time.Second, "cache DOWN in the API", func() bool { return apiStates(t, r.URL, "")["redis/cache"] == "DOWN" })
	t.Logf("page while the snapshot is held: live=%s %q, row %q", eval[string](b, `document.documentElement.dataset.live`),
		eval[string](b, `document.getElementById("live").textContent`), eval[string](b, rowState("redis/cache")))
	b.poll(rowState("redis/cache")+` === "DOWN"`, 5*time.Second) // from the stream
	close(release)
	time.Sleep(time.Second) // the stale snapshot (UP) has arrived
	if got := eval[string](b, rowState("redis/cache")); got != "DOWN" {
		t.Fatalf("after the older snapshot arrived the row says %q, want the newer DOWN", got)
	}
	b.checkClean()
}
