package web_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/servers"
)

const pageToken = "page-token-123"

// pageTargets is one or two targets of every kind.
const pageTargets = `targets:
  - {name: main, type: postgres, host: 127.0.0.1, port: 1}
  - {name: analytics, type: postgres, host: 127.0.0.1, port: 1}
  - {name: search, type: elasticsearch, host: 127.0.0.1, port: 1}
  - {name: vectors, type: milvus, host: 127.0.0.1, port: 1}
  - {name: cache, type: redis, host: 127.0.0.1, port: 1}
  - {name: conf, type: nacos, host: 127.0.0.1, port: 1}
  - {name: bus, type: rabbitmq, host: 127.0.0.1, port: 1}
`

// rowState is the state a row of the overview shows, as text.
func rowState(id string) string {
	return fmt.Sprintf(`(document.querySelector('tr[data-key=%q] .state')||{}).textContent`, id)
}

// TestStatusPage drives the page in headless chromium against a real
// replica: the overview lists every target with its state; a flip DOWN and
// back UP shows without reload; the page says when it is not live and
// comes back after the network drops; the detail page draws one point per
// check of the history; the write controls exist only with the token, and
// a silence made in the page is in the API; no console error, no request
// off 127.0.0.1; axe-core finds nothing.
func TestStatusPage(t *testing.T) {
	st := &states{m: map[string]probes.State{"milvus/vectors": probes.StateDegraded}}
	r := standalone(t, pageTargets, st, map[string]string{"API_TOKEN": pageToken})
	want := map[string]string{"postgres/main": "UP", "postgres/analytics": "UP", "elasticsearch/search": "UP",
		"milvus/vectors": "DEGRADED", "redis/cache": "UP", "nacos/conf": "UP", "rabbitmq/bus": "UP"}
	waitFor(t, 20*time.Second, "every target checked", func() bool {
		got := apiStates(t, r.URL, "")
		for id, s := range want {
			if got[id] != s {
				return false
			}
		}
		return true
	})
	// The browser reaches the replica through a proxy the test can cut.
	proxy := servers.StartProxy(t, strings.TrimPrefix(r.URL, "http://"))
	base := "http://" + proxy.Addr()
	out := outDir(t)
	b := newBrowser(t)

	b.run(chromedp.Navigate(base + "/"))
	b.poll(fmt.Sprintf(`document.querySelectorAll("tr[data-key]").length === %d`, len(want)), 5*time.Second)
	for id, s := range want {
		if got := eval[string](b, rowState(id)); got != s {
			t.Errorf("overview: %s shows %q, want %q", id, got, s)
		}
	}
	b.poll(`document.documentElement.dataset.live === "on"`, 5*time.Second)
	// Bars load as their rows come into view.
	b.poll(`document.querySelectorAll(".bar").length >= 1`, 5*time.Second)
	eval[bool](b, `window.scrollTo(0, document.body.scrollHeight), true`)
	b.poll(`document.querySelectorAll(".bar").length === 7`, 5*time.Second)
	eval[bool](b, `window.scrollTo(0, 0), true`)
	if n := b.nodeCount("form#sil, button[data-act], #test, #signout"); n != 0 {
		t.Errorf("overview without the token: %d write controls", n)
	}
	b.axe("overview")
	weight := eval[map[string]float64](b, `(() => {
		const nav = performance.getEntriesByType("navigation")[0];
		let all = nav.transferSize, assets = nav.transferSize;
		for (const e of performance.getEntriesByType("resource")) { all += e.transferSize; if (e.name.includes("/ui/")) assets += e.transferSize; }
		return {all, assets};
	})()`)
	t.Logf("page weight of / with 7 targets: %.1f KB in all, %.1f KB of HTML, CSS and JS", weight["all"]/1024, weight["assets"]/1024)
	if weight["all"] > 200*1024 {
		t.Errorf("/ transfers %.0f bytes, over 200 KB", weight["all"])
	}
	png := b.screenshot(out, "overview.png")
	if *update || os.Getenv("DBHEALTH_UPDATE_SCREENSHOT") == "1" {
		if err := os.WriteFile(filepath.Join("..", "docs", "status-page.png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// Live: DOWN turns the row red without a reload, then back UP.
	eval[bool](b, `window.__sameLoad = true`)
	for _, to := range []probes.State{probes.StateDown, probes.StateUp} {
		st.set("redis/cache", to)
		inAPI := waitFor(t, 10*time.Second, "redis/cache "+string(to)+" in the API", func() bool { return apiStates(t, r.URL, "")["redis/cache"] == string(to) })
		lag := b.poll(rowState("redis/cache")+` === "`+string(to)+`"`, 2*time.Second)
		live := eval[float64](b, `window.__dbhealthLive`)
		t.Logf("live update to %s: %.0f ms from the transition to the row (on the page %s after the test saw it in the API, %s after the flip)",
			to, live, lag.Round(time.Millisecond), inAPI.Round(time.Millisecond))
		if live > 1000 {
			t.Errorf("the change took %.0f ms to show, over 1 s", live)
		}
		color := eval[string](b, `getComputedStyle(document.querySelector('tr[data-key="redis/cache"] .state')).color`)
		if to == probes.StateDown && color != "rgb(207, 34, 46)" {
			t.Errorf("DOWN is drawn in %s, not red", color)
		}
	}
	if !eval[bool](b, `window.__sameLoad === true`) {
		t.Error("the page reloaded")
	}

	// A network drop: the page says it is not live, then comes back and
	// catches up on a change made meanwhile.
	proxy.SetRefuse(true)
	proxy.Cut()
	b.poll(`document.documentElement.dataset.live === "off" && /not live/.test(document.getElementById("live").textContent)`, 3*time.Second)
	st.set("postgres/analytics", probes.StateDown)
	waitFor(t, 10*time.Second, "analytics DOWN in the API", func() bool { return apiStates(t, r.URL, "")["postgres/analytics"] == "DOWN" })
	proxy.SetRefuse(false)
	back := b.poll(`document.documentElement.dataset.live === "on" && `+rowState("postgres/analytics")+` === "DOWN"`, 8*time.Second)
	t.Logf("after the network came back the page was live and caught up in %s", back.Round(time.Millisecond))
	st.set("postgres/analytics", probes.StateUp)

	// Detail: one chart point per check in the history of the range.
	b.run(chromedp.Navigate(base + "/targets/redis/cache"))
	b.poll(`document.querySelector("svg.chart")`, 5*time.Second)
	// The chart grows with the live stream, so compare it with the history
	// up to its newest point.
	chartNow := func() map[string]string {
		return eval[map[string]string](b, `(() => { const c = document.querySelector("svg.chart"); const p = c.querySelector("polyline");
		return {points: c.dataset.points, drawn: String(p ? p.points.numberOfItems : 0), from: c.dataset.from, newest: c.dataset.newest || ""}; })()`)
	}
	chart := chartNow()
	var h struct {
		Items []struct{ State string } `json:"items"`
	}
	getJSON(t, r.URL+"/api/database/history/redis?name=cache&limit=1000&since="+url.QueryEscape(chart["from"])+"&until="+url.QueryEscape(chart["newest"]), "", &h)
	if chart["points"] != fmt.Sprint(len(h.Items)) || chart["drawn"] != chart["points"] || len(h.Items) < 3 {
		t.Errorf("chart: %v; the history of the range holds %d checks", chart, len(h.Items))
	}
	t.Logf("detail chart: %s points for %d checks in the history", chart["drawn"], len(h.Items))
	// New checks join the chart without a reload (one a second here).
	grown := b.poll(`Number(document.querySelector("svg.chart").dataset.points) >= `+chart["points"]+` + 2`, 5*time.Second)
	t.Logf("the detail chart took two new checks from the live stream in %s", grown.Round(time.Millisecond))
	// The target's page streams its own target's events only.
	if !slices.ContainsFunc(b.urlsSeen(), func(u string) bool {
		return strings.Contains(u, "/api/database/events?") && strings.Contains(u, "target=redis%2Fcache")
	}) {
		t.Errorf("the detail page did not ask the stream for redis/cache only: %v", b.urlsSeen())
	}
	b.poll(`document.querySelectorAll("#tl table tbody tr").length >= 2`, 3*time.Second) // DOWN and back UP
	b.poll(`document.querySelector("#al table")`, 3*time.Second)
	if n := b.nodeCount("#test"); n != 0 {
		t.Error("detail without the token shows the connection test")
	}
	b.axe("detail")
	b.screenshot(out, "detail.png")

	// Alerts without the token: the list and no write control.
	b.run(chromedp.Navigate(base + "/alerts"))
	b.poll(`document.querySelector("tr[data-alert]")`, 5*time.Second)
	if n := b.nodeCount("form#sil, button[data-act]"); n != 0 {
		t.Errorf("alerts without the token: %d write controls", n)
	}

	// Sign in; create a silence in the page; the API has it.
	b.run(chromedp.SendKeys(`#signin input[name="token"]`, pageToken), chromedp.Click(`#signin button[type="submit"]`))
	b.poll(`document.getElementById("signout") && document.querySelector("form#sil")`, 5*time.Second)
	if strings.Contains(eval[string](b, `location.href`), pageToken) {
		t.Error("the token is in the URL")
	}
	b.run(chromedp.SetValue(`#sil select[name="type"]`, "redis"), chromedp.SendKeys(`#sil input[name="name"]`, "cache"),
		chromedp.SendKeys(`#sil input[name="by"]`, "browser-test"), chromedp.SendKeys(`#sil input[name="comment"]`, "made in the page"),
		chromedp.Click(`#sil button[type="submit"]`))
	b.poll(`document.getElementById("a-msg").textContent === "Silence created" && document.querySelector("button[data-act=expire]")`, 5*time.Second)
	var sil struct {
		Silences []struct {
			ID, CreatedBy, Comment, Status string
			Matchers                       []struct{ Name, Value string }
		}
	}
	getJSON(t, r.URL+"/api/database/alerts/silences", "", &sil)
	if len(sil.Silences) != 1 || sil.Silences[0].CreatedBy != "browser-test" || len(sil.Silences[0].Matchers) != 2 {
		t.Errorf("silences in the API: %+v", sil.Silences)
	}
	b.poll(`document.querySelector("button[data-act=ack]")`, 3*time.Second)
	b.axe("alerts")
	b.screenshot(out, "alerts.png")
	b.run(chromedp.Click(`button[data-act=ack]`))
	b.poll(`document.getElementById("a-msg").textContent === "Acknowledged" && /acked by/.test(document.querySelector("#alerts").textContent)`, 5*time.Second)
	b.run(chromedp.Click(`button[data-act=unack]`))
	b.poll(`document.getElementById("a-msg").textContent === "Acknowledgement removed" && document.querySelector("button[data-act=ack]")`, 5*time.Second)
	b.run(chromedp.Click(`button[data-act=expire]`))
	b.poll(`document.getElementById("a-msg").textContent === "Silence expired" && !document.querySelector("button[data-act=expire]")`, 5*time.Second)
	b.checkClean()
	t.Logf("screenshots in %s", out)
}
