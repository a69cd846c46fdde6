package probes

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// The Nacos client's gRPC side: the long-lived nacos-sdk-go naming client,
// created in the background, and the one naming request of a probe. The
// HTTP side is in nacos_http.go, the watched gRPC connections in
// nacos_watch.go.

// startSDK creates the SDK naming client in the background, once (again
// after a failed creation). NewNamingClient logs in and connects
// synchronously, for up to several timeouts against a dead server, so it
// never runs on a probe's goroutine.
func (c *nacosClient) startSDK() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed.Load() || c.sdkReady != nil {
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
		if c.closed.Load() {
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
