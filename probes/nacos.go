package probes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
	"google.golang.org/grpc"
)

var errNacosClosed = errors.New("nacos: client closed")

// nacosGRPCOffset is the distance between a Nacos server's HTTP port and
// its gRPC port.
const nacosGRPCOffset = constant.RpcPortOffset

// nacosLoginRecheck is how long a successful login check is trusted: a
// login costs the server a bcrypt hash, so it is not repeated every probe.
const nacosLoginRecheck = 5 * time.Minute

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

// nacosClient is the long-lived Client of one Nacos target.
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

	// mu guards the SDK client, the SDK call in flight, the watch
	// connections and closed.
	mu         sync.Mutex
	closed     bool
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
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return NacosFacts{}, fmt.Errorf("nacos: waiting for the previous probe: %w", ctx.Err())
	}
	defer func() { <-c.sem }()
	if c.isClosed() {
		return NacosFacts{}, Fail(ErrKindConfig, errNacosClosed)
	}
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

// readinessAll asks every server concurrently and fills f.Servers. It
// returns the address of the first server (in configuration order) that
// answered HTTP at all, or "" and the first request error.
func (c *nacosClient) readinessAll(ctx context.Context, f *NacosFacts) (string, error) {
	type answer struct {
		facts NacosServerFacts
		err   error
	}
	answers := make([]answer, len(c.addrs))
	var wg sync.WaitGroup
	for i, a := range c.addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sf, err := c.readiness(ctx, a)
			answers[i] = answer{sf, err}
		}()
	}
	wg.Wait()
	answered := ""
	var firstErr error
	for _, a := range answers {
		f.Servers = append(f.Servers, a.facts)
		if a.facts.Ready {
			f.ServersReady++
		}
		switch {
		case a.err == nil && answered == "":
			answered = a.facts.Address
		case a.err != nil && firstErr == nil:
			firstErr = fmt.Errorf("nacos: readiness of %s: %w", a.facts.Address, a.err)
		}
	}
	return answered, firstErr
}

// checkLogin verifies the credentials when a user name is set and the
// server does not say that auth is off. A success is trusted for
// nacosLoginRecheck (or half the token lifetime, if shorter).
func (c *nacosClient) checkLogin(ctx context.Context, addr string) error {
	if c.target.Username == "" || (c.authEnabled != nil && !*c.authEnabled) {
		return nil
	}
	if !c.loginChecked.IsZero() && time.Since(c.loginChecked) < c.loginValid {
		return nil
	}
	ttl, err := c.login(ctx, addr)
	if err != nil {
		c.loginChecked = time.Time{}
		return err
	}
	c.loginChecked, c.loginValid = time.Now(), nacosLoginRecheck
	if ttl > 0 && ttl/2 < c.loginValid {
		c.loginValid = ttl / 2
	}
	return nil
}

// startSDK creates the SDK naming client in the background, once (again
// after a failed creation). NewNamingClient logs in and connects
// synchronously, for up to several timeouts against a dead server, so it
// never runs on a probe's goroutine.
func (c *nacosClient) startSDK() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.sdkReady != nil {
		return
	}
	ready := make(chan struct{})
	c.sdkReady = ready
	param := nacosSDKParam(c.target, c.addrs, c.dir, c.timeout)
	go func() {
		cl, err := clients.NewNamingClient(param)
		c.mu.Lock()
		defer c.mu.Unlock()
		defer close(ready)
		if err != nil {
			c.sdkErr = Fail(ErrKindConfig, fmt.Errorf("nacos: SDK client: %w", err))
			return
		}
		if c.closed {
			cl.CloseClient()
			return
		}
		c.sdk = cl
	}()
}

// nacosSDKParam is the SDK configuration of a target.
func nacosSDKParam(t Target, addrs []string, dir string, timeout time.Duration) vo.NacosClientParam {
	servers := make([]constant.ServerConfig, 0, len(addrs))
	for _, a := range addrs {
		host, portStr, _ := net.SplitHostPort(a)
		port, _ := strconv.ParseUint(portStr, 10, 64)
		servers = append(servers, constant.ServerConfig{IpAddr: host, Port: port, Scheme: nacosSDKScheme(t), ContextPath: "/nacos"})
	}
	return vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			NamespaceId:          t.Namespace,
			TimeoutMs:            uint64(timeout.Milliseconds()),
			LogDir:               filepath.Join(dir, "log"),
			CacheDir:             filepath.Join(dir, "cache"),
			NotLoadCacheAtStart:  true,
			UpdateCacheWhenEmpty: true,
			LogLevel:             "warn",
			Username:             t.Username,
			Password:             t.Password.Reveal(),
			AppName:              "database-service-probe",
			TLSCfg:               nacosSDKTLS(t),
		},
		ServerConfigs: servers,
	}
}

// nacosSDKCall is one naming request through the SDK. It may outlive the
// probe that started it (the SDK call takes no context); the next probe
// then waits for it instead of piling up another.
type nacosSDKCall struct {
	done    chan struct{}
	count   int64
	healthy bool
	err     error
}

// sdkServices waits for the SDK client, then lists one page of services
// of the target's namespace and group: a round trip over the SDK's gRPC
// connection. ServerHealthy is asked only after a success, when it is a
// status read; on a broken connection it would fall back to HTTP requests
// with retries. The returned error is the probe's own (its deadline); the
// SDK's failure is in the call's err.
func (c *nacosClient) sdkServices(ctx context.Context) (*nacosSDKCall, error) {
	c.mu.Lock()
	ready := c.sdkReady
	c.mu.Unlock()
	select {
	case <-ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("nacos: SDK client still connecting: %w", ctx.Err())
	}
	c.mu.Lock()
	sdk, sdkErr := c.sdk, c.sdkErr
	if sdkErr != nil {
		c.sdkReady, c.sdkErr = nil, nil // try again next probe
		c.mu.Unlock()
		return nil, sdkErr
	}
	if sdk == nil {
		c.mu.Unlock()
		return nil, Fail(ErrKindConfig, errNacosClosed)
	}
	call := c.call
	if call == nil || isClosedChan(call.done) {
		call = &nacosSDKCall{done: make(chan struct{})}
		c.call = call
		go func() {
			defer close(call.done)
			list, err := sdk.GetAllServicesInfo(vo.GetAllServiceInfoParam{
				NameSpace: c.target.Namespace, GroupName: c.target.Group, PageNo: 1, PageSize: 1,
			})
			if err != nil {
				call.err = err
				return
			}
			call.count = list.Count
			call.healthy = sdk.ServerHealthy()
		}()
	}
	c.mu.Unlock()
	select {
	case <-call.done:
		return call, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("nacos: SDK naming request: %w", ctx.Err())
	}
}

func isClosedChan(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (c *nacosClient) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Stats counts the SDK connection (as the last probe saw it) and the ready
// watch connections, and the probes.
func (c *nacosClient) Stats() PoolStats {
	c.mu.Lock()
	var open int64
	if c.connected {
		open++
	}
	for _, cc := range c.watchConns {
		if cc != nil && isReady(cc) {
			open++
		}
	}
	c.mu.Unlock()
	return c.counter.stats(open)
}

// Close shuts the SDK client down (a creation in flight closes its client
// when it ends). A running Watch stops with its context.
func (c *nacosClient) Close() error {
	c.mu.Lock()
	c.closed = true
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
