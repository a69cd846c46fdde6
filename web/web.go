// Package web is the status page: plain HTML, CSS and JavaScript modules
// embedded in the binary (no CDN, no build step), served by Handler. The
// page reads everything from the /api routes of the replica serving it.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var files embed.FS

// asset is one embedded file, its type and its strong ETag, and its
// gzipped form.
type asset struct {
	body, gz []byte
	ctype    string
	etag     string
}

// Handler serves the page routes (GET /, /targets/{type}/{name}, /alerts:
// the same HTML shell, the script draws the view of the path) and the
// assets under /ui/. Every answer has an ETag; If-None-Match answers 304.
// Everything is revalidated on each load ("no-cache": a 304 costs a few
// bytes) because the module names carry no version: after an upgrade a
// cached old module must never run beside the new shell.
func Handler() http.Handler {
	all := map[string]asset{}
	_ = fs.WalkDir(files, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if path.Ext(p) == ".js" {
			ct = "text/javascript; charset=utf-8"
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		_, _ = zw.Write(b)
		_ = zw.Close()
		all[strings.TrimPrefix(p, "assets/")] = asset{body: b, gz: gz.Bytes(), ctype: ct, etag: hex.EncodeToString(sum[:12])}
		return nil
	})
	mux := http.NewServeMux()
	page := func(w http.ResponseWriter, r *http.Request) { serve(w, r, all["index.html"], "no-cache") }
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET /alerts", page)
	mux.HandleFunc("GET /targets/{type}/{name}", page)
	mux.HandleFunc("GET /ui/{file...}", func(w http.ResponseWriter, r *http.Request) {
		a, ok := all[r.PathValue("file")]
		if !ok || r.PathValue("file") == "index.html" {
			http.NotFound(w, r)
			return
		}
		serve(w, r, a, "public, no-cache")
	})
	return mux
}

// serve writes a (gzipped when the client accepts it) with its
// validators, or 304 when the client has it.
func serve(w http.ResponseWriter, r *http.Request, a asset, cache string) {
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("Vary", "Accept-Encoding")
	body, etag := a.body, a.etag
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		body, etag = a.gz, a.etag+"-gz"
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", `"`+etag+`"`)
	h.Set("Cache-Control", cache)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	// ServeContent answers If-None-Match (304) from the ETag and ranges.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
