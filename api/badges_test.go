package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/projections"
)

// svgText parses an SVG badge with encoding/xml and returns its text.
func svgText(t *testing.T, b []byte) string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(b))
	var root string
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, b)
		}
		switch v := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = v.Name.Space + " " + v.Name.Local
			}
		case xml.CharData:
			text.Write(v)
			text.WriteByte(' ')
		}
	}
	if root != "http://www.w3.org/2000/svg svg" {
		t.Fatalf("root element %q, want svg", root)
	}
	return text.String()
}

// TestBadges: each badge is an SVG saying the read models' value, with an
// ETag that answers 304; unknown targets and badges are 404.
func TestBadges(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ path, want string }{
		{"/api/database/badges/postgres/main/health.svg", "DEGRADED"},
		{"/api/database/badges/elasticsearch/search/health.svg", "DOWN"},
		{"/api/database/badges/redis/cache/latency.svg", "0.8 ms"},
		{"/api/database/badges/milvus/vectors/latency.svg", "n/a"},
		{"/api/database/badges/redis/cache/uptime-24h.svg", "99.00%"},
		{"/api/database/badges/redis/cache/uptime-7d.svg", "n/a"},
		{"/api/database/badges/postgres/main/uptime-24h.svg", "n/a"},
	} {
		r := e.get(tc.path)
		if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "image/svg+xml") {
			t.Fatalf("%s: %d %s", tc.path, r.Status, r.Header.Get("Content-Type"))
		}
		if text := svgText(t, r.Body); !strings.Contains(text, tc.want) {
			t.Errorf("%s says %q, want %q", tc.path, text, tc.want)
		}
		etag := r.Header.Get("ETag")
		if etag == "" || !strings.Contains(r.Header.Get("Cache-Control"), "max-age") {
			t.Fatalf("%s: no validators: %v", tc.path, r.Header)
		}
		again := e.do(request{path: tc.path, header: map[string]string{"If-None-Match": etag}})
		if again.Status != http.StatusNotModified || len(again.Body) != 0 {
			t.Errorf("%s with If-None-Match: %d %q", tc.path, again.Status, again.Body)
		}
	}
	for _, p := range []string{
		"/api/database/badges/postgres/nope/health.svg",
		"/api/database/badges/redis/nope/uptime-24h.svg",
		"/api/database/badges/redis/cache/shoe-size.svg",
		"/api/database/badges/redis/cache/health.png",
	} {
		if r := e.get(p); r.Status != http.StatusNotFound || !strings.Contains(string(r.Body), `"not_found"`) {
			t.Errorf("%s: %d %s", p, r.Status, r.Body)
		}
	}
	if r := e.get("/api/database/badges/oracle/x/health.svg"); r.Status != http.StatusNotFound {
		t.Errorf("unknown kind: %d", r.Status)
	}
}

// TestUIRoutesOpenWithAuthAll: with API_AUTH=all the page routes need no
// token (the page is static); without a UI they answer 404.
func TestUIRoutesOpenWithAuthAll(t *testing.T) {
	ui := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = io.WriteString(w, "<p>page</p>")
	})
	e := newEnv(t, withToken("s3cret"), func(o *api.Options, _ *api.Deps) { o.AuthAll, o.UI = true, ui })
	for _, p := range []string{"/", "/alerts", "/targets/redis/cache", "/ui/app.js"} {
		// The assets are not API operations: openapi.yaml leaves them out.
		if r := e.do(request{path: p, noValidate: p == "/ui/app.js"}); r.Status != http.StatusOK || string(r.Body) != "<p>page</p>" {
			t.Errorf("%s: %d %s", p, r.Status, r.Body)
		}
	}
	if r := e.get("/api/database/badges/redis/cache/health.svg"); r.Status != http.StatusUnauthorized {
		t.Errorf("badge without the token under AuthAll: %d", r.Status)
	}
	bare := newEnv(t)
	if r := bare.get("/"); r.Status != http.StatusNotFound {
		t.Errorf("/ without a UI: %d", r.Status)
	}
}

// TestStatusGzipped: a large status body is gzipped for a client that
// accepts it; the event stream route is not wrapped.
func TestStatusGzipped(t *testing.T) {
	e := newEnv(t)
	var many []projections.TargetStatus
	for i := range 200 {
		many = append(many, projections.TargetStatus{Type: "redis", Name: fmt.Sprintf("r%03d", i), State: "UP"})
	}
	e.fakes.setStatuses(many, nil)
	req, _ := http.NewRequest(http.MethodGet, e.http.URL+"/api/database/status", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	zr, err := gzip.NewReader(res.Body)
	if err != nil || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("status not gzipped: %v %v", err, res.Header)
	}
	var body struct{ Databases []any }
	if err := json.NewDecoder(zr).Decode(&body); err != nil || len(body.Databases) != 200 {
		t.Errorf("gzipped body: %v, %d targets", err, len(body.Databases))
	}
}
