package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/util"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
)

// sdkConstructors build the SDK clients (tests count them).
type sdkConstructors struct {
	newNaming func(vo.NacosClientParam) (naming_client.INamingClient, error)
	newConfig func(vo.NacosClientParam) (config_client.IConfigClient, error)
}

func defaultSDK() sdkConstructors {
	return sdkConstructors{newNaming: clients.NewNamingClient, newConfig: clients.NewConfigClient}
}

// warmLocalIP fills the SDK's cache of this host's address once, before
// any client starts: the SDK fills it lazily, unsynchronized, from every
// client's connection (a data race when the naming and config clients
// start together).
var warmLocalIP = sync.OnceFunc(func() { _ = util.LocalIP() })

// sdkParam is the SDK configuration of a naming client for the given
// servers.
func (r *Registry) sdkParam(servers ...string) vo.NacosClientParam {
	sc := make([]constant.ServerConfig, 0, len(servers))
	for _, s := range servers {
		host, p, _ := net.SplitHostPort(s)
		port, _ := strconv.ParseUint(p, 10, 64)
		sc = append(sc, constant.ServerConfig{IpAddr: host, Port: port, Scheme: "http", ContextPath: "/nacos"})
	}
	return vo.NacosClientParam{
		ClientConfig: &constant.ClientConfig{
			NamespaceId:          r.cfg.Namespace,
			TimeoutMs:            uint64(r.cfg.Timeout.Milliseconds()),
			LogDir:               filepath.Join(r.sdkDir, "log"),
			CacheDir:             filepath.Join(r.sdkDir, "cache"),
			NotLoadCacheAtStart:  true,
			UpdateCacheWhenEmpty: true, // else the last peer leaving is never seen
			LogLevel:             "warn",
			Username:             r.cfg.Username,
			Password:             r.cfg.Password.Reveal(),
			AppName:              r.cfg.ServiceName,
		},
		ServerConfigs: sc,
	}
}

// configParam is sdkParam for a config client: the public namespace is the
// empty tenant there (servers before 2.3 know no tenant "public"), and a
// failed read is an error rather than the SDK's snapshot file, which can
// be older than anything delivered (even from a previous run).
func (r *Registry) configParam() vo.NacosClientParam {
	p := r.sdkParam(r.cfg.Servers...)
	p.ClientConfig.DisableUseSnapShot = true
	if p.ClientConfig.NamespaceId == DefaultNamespace {
		p.ClientConfig.NamespaceId = ""
	}
	return p
}

// grpcAddr is the gRPC address of a server given as HTTP host:port.
func grpcAddr(server string) string {
	host, p, _ := net.SplitHostPort(server)
	port, _ := strconv.Atoi(p)
	return net.JoinHostPort(host, strconv.Itoa(port+grpcPortOffset))
}

// dialReady opens a gRPC connection to addr and waits, up to timeout, until
// it is READY. The connection sends no keepalive pings: a Nacos server
// permits them only every 5 minutes and answers more with GOAWAY.
func dialReady(ctx context.Context, addr string, timeout time.Duration) (*grpc.ClientConn, error) {
	cc, err := grpc.DialContext(ctx, addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cc.Connect()
	for {
		s := cc.GetState()
		switch s {
		case connectivity.Ready:
			return cc, nil
		case connectivity.TransientFailure, connectivity.Shutdown:
			_ = cc.Close()
			return nil, fmt.Errorf("gRPC port %s unreachable (%s)", addr, s)
		}
		if !cc.WaitForStateChange(ctx, s) {
			_ = cc.Close()
			return nil, fmt.Errorf("gRPC port %s: %w", addr, errors.Join(ctx.Err(), errNotReady))
		}
	}
}

var errNotReady = errors.New("connection not ready")

// callWithin runs f (an SDK call, which takes no context) on its own
// goroutine and waits for it at most until ctx is done; f then finishes on
// its own.
func callWithin[T any](ctx context.Context, f func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := f()
		ch <- result{v, err}
	}()
	select {
	case res := <-ch:
		return res.v, res.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}
