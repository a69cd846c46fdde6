package probes

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
)

// Watch holds a gRPC connection of its own to the Milvus server and calls
// lost each time that connection leaves READY (the server closed it, went
// away, or stopped answering keepalive pings). gRPC reconnects by itself,
// with backoff; the next READY arms the watch again. Watch returns when
// ctx is done.
//
// The connection is separate from the probes' one, whose life follows the
// probes (dropped and dialled again after a failure).
func (c *milvusClient) Watch(ctx context.Context, lost func(reason string)) {
	opts := append(milvusDialOptions(false), grpc.WithTransportCredentials(c.creds))
	cc, err := grpc.DialContext(ctx, c.target.Addr(), opts...) // not blocking
	if err != nil {
		// Only bad options fail a non-blocking dial; nothing to watch.
		<-ctx.Done()
		return
	}
	defer cc.Close()
	c.setWatchConn(cc)
	defer c.setWatchConn(nil)

	watchGRPC(ctx, cc, fmt.Sprintf("milvus connection to %s", c.target.Addr()), lost)
}

func (c *milvusClient) setWatchConn(cc *grpc.ClientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watchConn = cc
}
