package web_test

import (
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dbhealth/database-service/probes"
)

// TestStatusPageReplicaRestart: the replica behind the page stops (its
// event stream ends) and a new one starts on the same data; the page says
// it is not live meanwhile, then follows the new replica and shows a
// change made while it was away, without a reload.
func TestStatusPageReplicaRestart(t *testing.T) {
	st := &states{m: map[string]probes.State{}}
	c, env := standaloneEnv(t, "targets:\n  - {name: cache, type: redis, host: 127.0.0.1, port: 1}\n", nil)
	r := c.Start("web", env, st.options()).Run()
	waitFor(t, 20*time.Second, "cache UP", func() bool { return apiStates(t, r.URL, "")["redis/cache"] == "UP" })

	// The browser's one address, in front of whichever replica runs.
	var upstream atomic.Pointer[url.URL]
	u, _ := url.Parse(r.URL)
	upstream.Store(u)
	front := httptest.NewServer(&httputil.ReverseProxy{FlushInterval: -1, ErrorLog: log.New(io.Discard, "", 0), Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(upstream.Load())
	}})
	t.Cleanup(front.Close)

	b := newBrowser(t)
	b.expect("502 (Bad Gateway)") // the page's reconnects while no replica runs
	b.run(chromedp.Navigate(front.URL + "/"))
	b.poll(`document.documentElement.dataset.live === "on" && `+rowState("redis/cache")+` === "UP"`, 5*time.Second)
	eval[bool](b, `window.__sameLoad = true`)

	r.Stop()
	b.poll(`document.documentElement.dataset.live === "off"`, 5*time.Second)
	t.Logf("while stopped the page says: %s", eval[string](b, `document.getElementById("live").textContent`))
	st.set("redis/cache", probes.StateDown)
	r2 := c.Start("web", env, st.options()).Run()
	u2, _ := url.Parse(r2.URL)
	upstream.Store(u2)
	waitFor(t, 20*time.Second, "cache DOWN on the new replica", func() bool { return apiStates(t, r2.URL, "")["redis/cache"] == "DOWN" })
	back := b.poll(`document.documentElement.dataset.live === "on" && `+rowState("redis/cache")+` === "DOWN"`, 10*time.Second)
	t.Logf("the page followed the restarted replica %s after it had the change", back.Round(time.Millisecond))
	if !eval[bool](b, `window.__sameLoad === true`) {
		t.Error("the page reloaded")
	}
	b.checkClean()
}
