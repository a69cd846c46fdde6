//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// proc is one process of the built binary, reaching the broker and the
// store through proxies of its own.
type proc struct {
	*cluster.Proc
	port          int
	url           string
	broker, store *servers.Proxy
}

// startProc starts replica id of w, logging to a file; the test's cleanup
// kills it and shows the end of its log if the test failed.
func startProc(w *world, id string) *proc {
	t := w.t
	t.Helper()
	port := servers.FreePort(t)
	p := &proc{
		port: port, url: fmt.Sprintf("http://127.0.0.1:%d", port),
		broker: servers.StartProxy(t, w.rabbit.Addr()), store: servers.StartProxy(t, w.store.Addr()),
	}
	p.Proc = cluster.StartProc(t, w.bin, id, w.dir, cluster.Environ(t, w.env(id, p)))
	return p
}

var client = &http.Client{Timeout: 3 * time.Second}

// httpGet GETs url and decodes a JSON body into v (when not nil).
func httpGet(url string, v any) (int, error) {
	res, err := client.Get(url)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, err
	}
	if v != nil && res.StatusCode == 200 {
		if err := json.Unmarshal(b, v); err != nil {
			return res.StatusCode, fmt.Errorf("%s: %w", url, err)
		}
	}
	return res.StatusCode, nil
}
