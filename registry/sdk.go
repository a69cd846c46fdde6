package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
)

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
// empty tenant there (servers before 2.3 know no tenant "public").
func (r *Registry) configParam() vo.NacosClientParam {
	p := r.sdkParam(r.cfg.Servers...)
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

// watchLost returns a channel closed when cc leaves READY. The watching
// goroutine ends with ctx.
func watchLost(ctx context.Context, cc *grpc.ClientConn) <-chan struct{} {
	lost := make(chan struct{})
	go func() {
		for {
			s := cc.GetState()
			if s != connectivity.Ready {
				close(lost)
				return
			}
			if !cc.WaitForStateChange(ctx, s) {
				return
			}
		}
	}()
	return lost
}

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
