package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dbhealth/database-service/probes"
)

// TestStatusPageThousandTargets: with 1000 targets the overview renders
// its rows in under a second from navigation start (performance API in
// the page), stays under 200 KB on the wire, fits a phone's width and
// has a dark scheme; axe-core finds nothing at phone width either.
func TestStatusPageThousandTargets(t *testing.T) {
	const n = 1000
	var doc strings.Builder
	doc.WriteString("targets:\n")
	kinds := []string{"postgres", "elasticsearch", "milvus", "redis", "nacos", "rabbitmq"}
	st := &states{m: map[string]probes.State{}}
	for i := range n {
		kind := kinds[i%len(kinds)]
		fmt.Fprintf(&doc, "  - {name: t%04d, type: %s, host: 127.0.0.1, port: 1}\n", i, kind)
		if i%97 == 0 {
			st.m[fmt.Sprintf("%s/t%04d", kind, i)] = probes.StateDown
		}
	}
	r := standalone(t, doc.String(), st, map[string]string{"PROBE_INTERVAL": "15s", "PROBE_TIMEOUT": "2s"})
	waitFor(t, 60*time.Second, "1000 targets checked", func() bool {
		got := apiStates(t, r.URL, "")
		for _, s := range got {
			if s == "UNKNOWN" {
				return false
			}
		}
		return len(got) == n
	})
	t.Logf("GET /api/database/status with %d targets: %d bytes, %d gzipped", n, bodySize(t, r.URL+"/api/database/status", false), bodySize(t, r.URL+"/api/database/status", true))
	out := outDir(t)
	b := newBrowser(t)
	var renders []float64
	for i := range 3 { // the first load is cold, the others hit the browser's and the replica's caches
		b.run(chromedp.Navigate(r.URL + "/"))
		b.poll(fmt.Sprintf(`document.documentElement.dataset.rendered === "%d"`, n), 10*time.Second)
		m := eval[map[string]float64](b, `({mark: performance.getEntriesByName("dbhealth:rendered")[0].startTime, script: window.__dbhealthRender.ms})`)
		t.Logf("load %d: %d rows rendered %.0f ms after navigation start (%.0f ms from the status request to the rows)", i+1, n, m["mark"], m["script"])
		renders = append(renders, m["mark"])
		if i == 0 { // the first load has nothing cached
			b.poll(`document.querySelectorAll(".bar").length > 0`, 10*time.Second)
			weight := eval[float64](b, `performance.getEntriesByType("navigation")[0].transferSize +
				performance.getEntriesByType("resource").reduce((s, e) => s + e.transferSize, 0)`)
			t.Logf("page weight of / with %d targets, first load: %.1f KB (the status and metrics JSON and the bars in view included)", n, weight/1024)
			if weight > 200*1024 {
				t.Errorf("/ with %d targets transfers %.0f KB, over 200 KB", n, weight/1024)
			}
		}
	}
	if worst := max(renders[0], renders[1], renders[2]); worst > 1000 {
		t.Errorf("time to first render with %d targets: %.0f ms (the slowest of three loads), over 1 s", n, worst)
	}
	if got := b.nodeCount(`tr[data-key] .state.DOWN`); got != (n+96)/97 {
		t.Errorf("%d rows DOWN, want %d", got, (n+96)/97)
	}
	// Filters: kind and search narrow the rows.
	b.run(chromedp.SetValue(`#f-kind`, "redis"))
	eval[bool](b, `document.getElementById("f-kind").dispatchEvent(new Event("change")), true`)
	if got := b.nodeCount(`tr[data-key]:not([hidden])`); got != (n+5)/6 {
		t.Errorf("kind filter redis: %d rows", got)
	}
	b.run(chromedp.SendKeys(`#f-q`, "t0003"))
	if got := b.nodeCount(`tr[data-key]:not([hidden])`); got != 1 {
		t.Errorf("search t0003 among redis: %d rows", got)
	}

	// A phone, in the dark.
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatal(err)
	}
	b.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(r.URL+"/"))
	b.poll(fmt.Sprintf(`document.documentElement.dataset.rendered === "%d"`, n), 10*time.Second)
	if bg := eval[string](b, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(13, 17, 23)" {
		t.Errorf("dark scheme background %s", bg)
	}
	if w := eval[map[string]float64](b, `({scroll: document.documentElement.scrollWidth, view: innerWidth})`); w["scroll"] > w["view"] {
		t.Errorf("at phone width the page scrolls sideways: %v", w)
	}
	eval[bool](b, `document.getElementById("f-q").value = "t00"; document.getElementById("f-q").dispatchEvent(new Event("input")), true`)
	b.axe("overview at phone width, dark")
	b.run(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
	ctx2, cancel2 := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel2()
	png, err := chromedp.Run(ctx2, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, out, "overview-phone-dark.png", png)
	b.checkClean()
}

// bodySize is the size on the wire of GET u, asking for gzip or not.
func bodySize(t *testing.T, u string, gzip bool) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	if gzip {
		req.Header.Set("Accept-Encoding", "gzip") // set by hand: the transport leaves the body encoded
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return len(b)
}
