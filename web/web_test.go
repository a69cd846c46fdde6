package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/web"
)

// TestHandler: the page routes serve the shell, assets their types, each
// with an ETag that answers 304; unknown files are 404.
func TestHandler(t *testing.T) {
	srv := httptest.NewServer(web.Handler())
	defer srv.Close()
	for _, tc := range []struct{ path, ctype, cache string }{
		{"/", "text/html", "no-cache"},
		{"/alerts", "text/html", "no-cache"},
		{"/targets/redis/a%2Fb", "text/html", "no-cache"},
		{"/ui/app.js", "text/javascript", "public, no-cache"},
		{"/ui/app.css", "text/css", "public, no-cache"},
	} {
		res, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		etag := res.Header.Get("ETag")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), tc.ctype) || etag == "" ||
			!strings.Contains(res.Header.Get("Cache-Control"), tc.cache) {
			t.Errorf("%s: %d %v", tc.path, res.StatusCode, res.Header)
			continue
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+tc.path, nil)
		req.Header.Set("If-None-Match", etag)
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("%s with If-None-Match: %d", tc.path, res.StatusCode)
		}
	}
	// Gzipped for a client that asks, and the same bytes once inflated.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/ui/app.css", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	zr, err := gzip.NewReader(res.Body)
	if err != nil || res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzipped: %v %v", err, res.Header)
	}
	css, _ := io.ReadAll(zr)
	if !bytes.Contains(css, []byte("prefers-color-scheme: dark")) {
		t.Errorf("gzipped app.css inflates to %d bytes without the dark scheme", len(css))
	}
	for _, p := range []string{"/ui/nope.js", "/ui/index.html", "/targets/redis", "/other"} {
		res, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
}
