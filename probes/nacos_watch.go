package probes

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// Watch holds a gRPC connection of its own to the gRPC port (port+1000) of
// every server and calls lost each time one of them leaves READY: the
// server stopped or closed the connection. gRPC reconnects by itself with
// backoff; the next READY arms the watch again. Watch returns when ctx is
// done.
//
// The SDK's connection events cannot serve: nacos-sdk-go v2.3.2 emits
// "disconnected" only once it has connected again (or is shut down). The
// watch connections send no keepalive pings: a Nacos server permits them
// only every 5 minutes by default and answers more with GOAWAY, which would
// read as a loss.
func (c *nacosClient) Watch(ctx context.Context, lost func(reason string)) {
	var wg sync.WaitGroup
	for _, a := range c.addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.watchServer(ctx, a, lost)
		}()
	}
	wg.Wait()
}

// watchServer watches the gRPC port of one server.
func (c *nacosClient) watchServer(ctx context.Context, addr string, lost func(reason string)) {
	host, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	grpcAddr := net.JoinHostPort(host, strconv.Itoa(port+int(nacosGRPCOffset)))
	cc, err := grpc.DialContext(ctx, grpcAddr,
		grpc.WithTransportCredentials(c.tls.creds),
		grpc.WithConnectParams(grpc.ConnectParams{Backoff: nacosWatchBackoff, MinConnectTimeout: c.timeout}),
	) // not blocking
	if err != nil {
		// Only bad options fail a non-blocking dial; nothing to watch.
		<-ctx.Done()
		return
	}
	defer cc.Close()
	c.setWatchConn(addr, cc)
	defer c.setWatchConn(addr, nil)

	watchGRPC(ctx, cc, fmt.Sprintf("nacos gRPC connection to %s", grpcAddr), lost)
}

func (c *nacosClient) setWatchConn(addr string, cc *grpc.ClientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cc == nil {
		delete(c.watchConns, addr)
		return
	}
	c.watchConns[addr] = cc
}

// nacosWatchBackoff paces the watch connections' reconnects.
var nacosWatchBackoff = backoff.Config{
	BaseDelay:  100 * time.Millisecond,
	Multiplier: 1.6,
	Jitter:     0.2,
	MaxDelay:   3 * time.Second,
}
