package probes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esapi"
)

// esProductHeader is the header whose value "Elasticsearch" tells a genuine
// Elasticsearch server apart from anything else answering HTTP.
const esProductHeader = "X-Elastic-Product"

// esMaxBody bounds how much of an answer a probe reads.
const esMaxBody = 1 << 20

var (
	errESNotElasticsearch = errors.New("server is not Elasticsearch (no " + esProductHeader + ": Elasticsearch header)")
	errESClosed           = errors.New("elasticsearch: client closed")
)

// OpenElasticsearch returns the Client of an Elasticsearch target. It does
// no I/O: the first Probe connects. t.Addresses holds the base URLs of the
// nodes (or t.Host/t.Port is used, https when t.TLS is enabled); https
// connections follow t.TLS (Go's default verification, as verify-full,
// when no mode is set). t.Username and t.Password are sent as basic
// authentication.
//
// Inside a probe the transport never retries (a probe must answer within
// its own timeout; the scheduler probes again), and the client's product
// check is kept, plus a check of every answer's X-Elastic-Product header.
func OpenElasticsearch(ctx context.Context, t Target) (Client, error) {
	c := &esClient{target: t, addrs: esAddresses(t)}
	if len(c.addrs) == 0 {
		return nil, Fail(ErrKindConfig, errors.New("elasticsearch: no address"))
	}
	// The host name checked by verify-full is each URL's own: the
	// transport fills ServerName in per connection.
	tlsCfg, err := t.TLS.ClientConfig("")
	if err != nil {
		return nil, Fail(ErrKindConfig, fmt.Errorf("elasticsearch: tls %w", err))
	}
	c.transport = newESTransport(&c.open, tlsCfg)
	es, err := c.newES()
	if err != nil {
		return nil, err
	}
	c.es = es
	return c, nil
}

// esAddresses lists the base URLs of t's nodes.
func esAddresses(t Target) []string {
	if len(t.Addresses) > 0 {
		return t.Addresses
	}
	if t.Host == "" {
		return nil
	}
	scheme := "http://"
	if t.TLS.Enabled() {
		scheme = "https://"
	}
	return []string{scheme + t.Addr()}
}

// esClient is the long-lived Client of one Elasticsearch target.
type esClient struct {
	target    Target
	addrs     []string
	transport *http.Transport

	// mu guards es and version: the SDK client of the current connection
	// and the version it reported (empty until GET / succeeded on it).
	mu      sync.Mutex
	es      *elasticsearch.BaseClient
	version string
	closed  bool

	open atomic.Int64 // TCP connections open
	// pc counts the HTTP requests (acquires), those in flight and the
	// failed ones.
	pc probeCounter
}

// newES builds an SDK client over the shared HTTP transport. It does no I/O.
func (c *esClient) newES() (*elasticsearch.BaseClient, error) {
	es, err := elasticsearch.NewBaseClient(elasticsearch.Config{
		Addresses:    c.addrs,
		Username:     c.target.Username,
		Password:     c.target.Password.Reveal(),
		DisableRetry: true,
		Transport:    c.transport,
	})
	if err != nil {
		// The SDK's message may quote a URL with credentials in it.
		return nil, Fail(ErrKindConfig, errors.New(scrub("elasticsearch: "+err.Error(), c.target)))
	}
	return es, nil
}

// session returns the current SDK client and the version known for it.
func (c *esClient) session() (*elasticsearch.BaseClient, string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, "", Fail(ErrKindConfig, errESClosed)
	}
	return c.es, c.version, nil
}

// reset replaces a failed SDK client with a fresh one, so that the next
// probe redoes the product check and fetches the version again.
func (c *esClient) reset(failed *elasticsearch.BaseClient) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.es != failed || c.closed {
		return
	}
	if es, err := c.newES(); err == nil {
		c.es, c.version = es, ""
	}
}

func (c *esClient) setVersion(es *elasticsearch.BaseClient, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.es == es {
		c.version = v
	}
}

// Probe reads the cluster health and, once per connection, the version.
// A red or yellow cluster is a verdict of the facts, not an error.
func (c *esClient) Probe(ctx context.Context) (Facts, error) {
	es, version, err := c.session()
	if err != nil {
		return nil, err
	}
	if version == "" {
		var info esRootInfo
		if err := c.get(ctx, es, esapi.InfoRequest{}, "/", &info); err != nil {
			c.reset(es)
			return nil, err
		}
		version = info.Version.Number
		c.setVersion(es, version)
	}
	var h esClusterHealth
	if err := c.get(ctx, es, esapi.ClusterHealthRequest{}, "/_cluster/health", &h); err != nil {
		c.reset(es)
		return nil, err
	}
	if h.Status == "" {
		c.pc.errors.Add(1)
		return nil, Fail(ErrKindProtocol, errors.New("elasticsearch GET /_cluster/health: answer has no status"))
	}
	f := h.ElasticsearchFacts
	f.Version, f.ActiveShardsPercent = version, h.ActiveShardsPercentAsNumber
	return f, nil
}

// get performs one GET and decodes its JSON answer into v, counting it.
func (c *esClient) get(ctx context.Context, es esapi.Transport, req esapi.Request, path string, v any) error {
	_, err := count(&c.pc, func() (struct{}, error) { return struct{}{}, esGet(ctx, es, req, path, v) })
	return err
}

// esGet performs req and decodes a 2xx JSON answer into v. Network errors
// are returned wrapped for Classify; what the protocol says is classified
// here: 401/403 auth, 5xx unavailable, no product header protocol.
func esGet(ctx context.Context, es esapi.Transport, req esapi.Request, path string, v any) error {
	res, err := req.Do(ctx, es)
	if err != nil {
		if strings.Contains(err.Error(), "not Elasticsearch") {
			// The SDK's own product check (first 2xx answer of a client).
			return Fail(ErrKindProtocol, fmt.Errorf("elasticsearch GET %s: %w", path, err))
		}
		return fmt.Errorf("elasticsearch GET %s: %w", path, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, esMaxBody))
	if err != nil {
		return fmt.Errorf("elasticsearch GET %s: reading answer: %w", path, err)
	}
	if res.IsError() {
		return esStatusError(path, res.StatusCode, body)
	}
	if res.Header.Get(esProductHeader) != "Elasticsearch" {
		return Fail(ErrKindProtocol, fmt.Errorf("elasticsearch GET %s: %w", path, errESNotElasticsearch))
	}
	if err := json.Unmarshal(body, v); err != nil {
		return Fail(ErrKindProtocol, fmt.Errorf("elasticsearch GET %s: decoding answer: %w", path, err))
	}
	return nil
}

// esStatusError turns a non-2xx answer into a classified error carrying
// Elasticsearch's error type and reason.
func esStatusError(path string, code int, body []byte) error {
	err := fmt.Errorf("elasticsearch GET %s: HTTP %d%s", path, code, esErrorReason(body))
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return Fail(ErrKindAuth, err)
	case code >= 500:
		return Fail(ErrKindUnavailable, err)
	}
	return Fail(ErrKindProtocol, err)
}

// esErrorReason extracts ": type: reason" from an Elasticsearch error body.
func esErrorReason(body []byte) string {
	var e struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || len(e.Error) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(e.Error, &s) == nil {
		return ": " + s
	}
	var d struct {
		Type   string `json:"type"`
		Reason string `json:"reason"`
	}
	if json.Unmarshal(e.Error, &d) != nil || d.Type == "" {
		return ""
	}
	return ": " + d.Type + ": " + d.Reason
}

// Stats reports the HTTP connections and the requests of the client.
func (c *esClient) Stats() PoolStats {
	return c.pc.stats(c.open.Load())
}

// Close closes the client and its idle connections; later probes fail.
func (c *esClient) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	// The SDK client holds nothing but the shared transport (no node
	// discovery, no goroutines): closing the transport's connections is
	// all there is to release.
	c.transport.CloseIdleConnections()
	return nil
}

// esRootInfo is the part of GET / a probe reads.
type esRootInfo struct {
	ClusterName string `json:"cluster_name"`
	Version     struct {
		Number string `json:"number"`
	} `json:"version"`
}

// esClusterHealth is the answer of GET /_cluster/health: the facts share
// its field names, but for the shard percentage (and the version, which
// the answer lacks). The request is not ?human, so the answer has no
// "active_shards_percent" string to clash with the facts' number.
type esClusterHealth struct {
	ElasticsearchFacts
	ActiveShardsPercentAsNumber float64 `json:"active_shards_percent_as_number"`
}
