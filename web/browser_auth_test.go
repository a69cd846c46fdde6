package web_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dbhealth/database-service/probes"
)

// TestStatusPageAuthAll: with API_AUTH=all the page still loads, asks for
// the token, then reads and follows the event stream with it (fetch with
// the Authorization header: an EventSource could not); the keyboard
// reaches the skip link first; the connection test runs from the page;
// the replica's badges are SVG with working ETags.
func TestStatusPageAuthAll(t *testing.T) {
	st := &states{m: map[string]probes.State{}}
	r := standalone(t, "targets:\n  - {name: cache, type: redis, host: 127.0.0.1, port: 1}\n  - {name: main, type: postgres, host: 127.0.0.1, port: 1}\n",
		st, map[string]string{"API_TOKEN": pageToken, "API_AUTH": "all"})
	waitFor(t, 20*time.Second, "both targets UP", func() bool {
		s := apiStates(t, r.URL, pageToken)
		return s["redis/cache"] == "UP" && s["postgres/main"] == "UP"
	})
	b := newBrowser(t)
	b.expect("status of 401 (Unauthorized)") // the reads before the sign-in, and the wrong token
	b.run(chromedp.Navigate(r.URL + "/"))
	b.poll(`/needs the API token/.test(document.getElementById("main").textContent)`, 5*time.Second)
	b.poll(`document.documentElement.dataset.live === "off"`, 5*time.Second)

	// The keyboard: the first Tab lands on the skip link.
	b.run(chromedp.KeyEvent("\t"))
	if got := eval[string](b, `document.activeElement.className`); got != "skip" {
		t.Errorf("first Tab focuses %q, not the skip link", got)
	}

	b.run(chromedp.SendKeys(`#signin input[name="token"]`, "wrong"), chromedp.Click(`#signin button[type="submit"]`))
	b.poll(`document.getElementById("autherr").textContent === "Wrong token"`, 5*time.Second)
	b.run(chromedp.SetValue(`#signin input[name="token"]`, pageToken), chromedp.Click(`#signin button[type="submit"]`))
	b.poll(`document.querySelectorAll("tr[data-key]").length === 2 && document.documentElement.dataset.live === "on"`, 5*time.Second)
	if got := eval[string](b, `sessionStorage.getItem("dbhealth.token")`); got != pageToken {
		t.Errorf("sessionStorage holds %q", got)
	}

	st.set("postgres/main", probes.StateDown)
	waitFor(t, 10*time.Second, "main DOWN in the API", func() bool { return apiStates(t, r.URL, pageToken)["postgres/main"] == "DOWN" })
	lag := b.poll(rowState("postgres/main")+` === "DOWN"`, 2*time.Second)
	t.Logf("live update through the authenticated stream: %s after the API", lag.Round(time.Millisecond))

	// The connection test, from the target's page.
	b.run(chromedp.Navigate(r.URL + "/targets/postgres/main"))
	b.poll(`document.querySelector("#test")`, 5*time.Second)
	b.run(chromedp.Click(`#test`))
	b.poll(`/Test: DOWN/.test(document.getElementById("test-out").textContent)`, 5*time.Second)
	b.checkClean()
	for _, u := range b.urlsSeen() {
		if strings.Contains(u, pageToken) {
			t.Errorf("the token is in a URL: %s", u)
		}
	}

	// Badges: SVG, and 304 for the same ETag.
	for _, badge := range []string{"health", "uptime-24h", "uptime-7d", "latency"} {
		u := r.URL + "/api/database/badges/postgres/main/" + badge + ".svg"
		body, etag := fetchBadge(t, u, "")
		if !isSVG(body) {
			t.Errorf("%s is not SVG: %s", badge, body)
		}
		// The uptime moves with every check, so the badge may change
		// between the two requests: a 200 then carries another ETag. The
		// same ETag back is always a 304, and a few tries see one.
		for try := 0; ; try++ {
			again, etag2 := fetchBadge(t, u, etag)
			if again == nil {
				break
			}
			if etag2 == etag {
				t.Errorf("%s: a 200 with the ETag it was asked about", badge)
				break
			}
			if try == 4 {
				t.Errorf("%s with its ETag was not a 304 in 5 tries", badge)
				break
			}
			etag = etag2
		}
	}
	if body, _ := fetchBadge(t, r.URL+"/api/database/badges/postgres/main/health.svg", ""); !bytes.Contains(body, []byte("DOWN")) {
		t.Errorf("health badge of a DOWN target: %s", body)
	}
}

// fetchBadge GETs a badge with the token; nil body on 304.
func fetchBadge(t *testing.T, u, etag string) ([]byte, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+pageToken)
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	switch res.StatusCode {
	case http.StatusNotModified:
		return nil, etag
	case http.StatusOK:
		return b, res.Header.Get("ETag")
	}
	t.Fatalf("GET %s: %d %s", u, res.StatusCode, b)
	return nil, ""
}

// isSVG parses b with encoding/xml: well-formed, its root an svg element.
func isSVG(b []byte) bool {
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return root == "svg"
		}
		if err != nil {
			return false
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
			if se.Name.Space != "http://www.w3.org/2000/svg" {
				return false
			}
		}
	}
}
