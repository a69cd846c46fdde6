package probes

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"google.golang.org/grpc"
)

var errNacosClosed = errors.New("nacos: client closed")

// nacosGRPCOffset is the distance between a Nacos server's HTTP port and
// its gRPC port.
const nacosGRPCOffset = constant.RpcPortOffset

// OpenNacos returns the Client of a Nacos target: t.Addresses are its
// servers ("host:port", HTTP port; gRPC is port+1000), else t.Host:t.Port;
// t.Namespace and t.Group scope the SDK's naming calls; t.Username and
// t.Password authenticate. It does no I/O. The SDK keeps its logs and
// caches under the system temporary directory; use NacosOpener to choose.
func OpenNacos(ctx context.Context, t Target) (Client, error) {
	return NacosOpener("")(ctx, t)
}

// NacosOpener returns an Opener of Nacos targets whose SDK clients write
// their logs and caches under dataDir/nacos-probe/<target name> (dataDir ""
// means os.TempDir()/database-service), never into the working directory.
//
// A probe asks every server's readiness endpoint, reads the server version,
// checks the credentials when the server has auth on, and sends one naming
// request through a long-lived nacos-sdk-go naming client. The client
// implements Watcher over gRPC connections of its own.
func NacosOpener(dataDir string) Opener {
	return func(_ context.Context, t Target) (Client, error) {
		addrs, err := nacosAddresses(t)
		if err != nil {
			return nil, err
		}
		if dataDir == "" {
			dataDir = filepath.Join(os.TempDir(), "database-service")
		}
		timeout := targetTimeout(t)
		tlsSide, err := newNacosTLS(t)
		if err != nil {
			return nil, err
		}
		return &nacosClient{
			target:  t,
			addrs:   addrs,
			dir:     filepath.Join(dataDir, "nacos-probe", safeName(t.Name)),
			timeout: timeout,
			tls:     tlsSide,
			http: &http.Client{Transport: &http.Transport{
				TLSClientConfig:     tlsSide.http,
				Proxy:               nil,
				DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     90 * time.Second,
			}},
			sem:        make(chan struct{}, 1),
			watchConns: map[string]*grpc.ClientConn{},
		}, nil
	}
}

// nacosAddresses validates the servers of t: "host:port" with the gRPC port
// (port+1000) still a valid port. An "http://" prefix is tolerated.
func nacosAddresses(t Target) ([]string, error) {
	raw := t.Addresses
	if len(raw) == 0 && t.Host != "" {
		raw = []string{t.Addr()}
	}
	if len(raw) == 0 {
		return nil, Fail(ErrKindConfig, errors.New("nacos: no server address"))
	}
	out := make([]string, 0, len(raw))
	for _, a := range raw {
		a = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(a), "http://"), "/")
		host, portStr, err := net.SplitHostPort(a)
		port, perr := strconv.Atoi(portStr)
		if err != nil || host == "" || perr != nil || port <= 0 || port+int(nacosGRPCOffset) > 65535 {
			return nil, Fail(ErrKindConfig, fmt.Errorf("nacos: server %q: need host:port with port 1-%d", a, 65535-nacosGRPCOffset))
		}
		out = append(out, net.JoinHostPort(host, portStr))
	}
	return out, nil
}

// nacosClient is the long-lived Client of one Nacos target. A probe asks
// HTTP (nacos_http.go) and the SDK's gRPC connection (nacos_sdk.go); the
// facts are judged in nacos_facts.go and the watched gRPC connections live
// in nacos_watch.go.
type nacosClient struct {
	target  Target
	addrs   []string
	dir     string
	timeout time.Duration
	tls     nacosTLS
	http    *http.Client

	// sem admits one probe at a time; its holder owns the fields below.
	sem          chan struct{}
	version      string
	authEnabled  *bool
	loginChecked time.Time
	loginValid   time.Duration

	// closed is set under mu, so that it and the SDK client change
	// together.
	closed atomic.Bool
	// mu guards the SDK client, the SDK call in flight and the watch
	// connections.
	mu         sync.Mutex
	sdk        naming_client.INamingClient
	sdkReady   chan struct{} // closed when the SDK client creation ended
	sdkErr     error
	call       *nacosSDKCall
	connected  bool // the last probe's SDKConnected
	watchConns map[string]*grpc.ClientConn

	counter probeCounter
}

// Probe observes the servers. Every server unreachable over HTTP, or the
// credentials rejected, is an error; anything else is a fact judged by
// NacosFacts.Health.
func (c *nacosClient) Probe(ctx context.Context) (Facts, error) {
	f, err := count(&c.counter, func() (NacosFacts, error) { return c.probeOnce(ctx) })
	if err != nil {
		return nil, err
	}
	f.Pool = c.Stats()
	return f, nil
}

func (c *nacosClient) probeOnce(ctx context.Context) (NacosFacts, error) {
	if err := enterProbe(ctx, c.sem, Nacos, &c.closed, errNacosClosed); err != nil {
		return NacosFacts{}, err
	}
	defer func() { <-c.sem }()
	// The SDK client connects in the background while HTTP is asked.
	c.startSDK()

	f := NacosFacts{Namespace: c.target.Namespace, Group: c.target.Group}
	answered, err := c.readinessAll(ctx, &f)
	if answered == "" {
		c.version, c.authEnabled, c.loginChecked = "", nil, time.Time{}
		return NacosFacts{}, err
	}
	if c.version == "" {
		st, err := c.serverState(ctx, answered)
		if err != nil && ctx.Err() != nil {
			return NacosFacts{}, fmt.Errorf("nacos: server state: %w", err)
		}
		c.version, c.authEnabled = st.Version, st.AuthEnabled
	}
	f.Version, f.AuthEnabled = c.version, c.authEnabled
	if err := c.checkLogin(ctx, answered); err != nil {
		return NacosFacts{}, err
	}

	res, err := c.sdkServices(ctx)
	if err != nil {
		return NacosFacts{}, err
	}
	f.SDKConnected, f.Services = res.err == nil && res.healthy, res.count
	switch {
	case res.err != nil:
		f.SDKError = res.err.Error()
	case !res.healthy:
		f.SDKError = "the SDK reports the server unhealthy"
	}
	c.mu.Lock()
	c.connected = f.SDKConnected
	c.mu.Unlock()
	if !f.SDKConnected {
		// Read the version again once the server is back: it may be
		// another one.
		c.version = ""
	}
	return f, nil
}

// Stats counts the SDK connection (as the last probe saw it) and the ready
// watch connections, and the probes.
func (c *nacosClient) Stats() PoolStats {
	c.mu.Lock()
	open := readyConns(maps.Values(c.watchConns))
	if c.connected {
		open++
	}
	c.mu.Unlock()
	return c.counter.stats(open)
}

// Close shuts the SDK client down (a creation in flight closes its client
// when it ends). A running Watch stops with its context.
func (c *nacosClient) Close() error {
	c.mu.Lock()
	c.closed.Store(true)
	sdk := c.sdk
	c.sdk = nil
	c.mu.Unlock()
	if sdk != nil {
		sdk.CloseClient()
	}
	c.http.CloseIdleConnections()
	return nil
}

// safeName makes a target name usable as a directory name.
func safeName(name string) string {
	if name == "" {
		return "default"
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
}
