package probes

import (
	"context"
	"fmt"
	"iter"

	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
)

// readyConns counts the connections of ccs that are READY (a nil one is
// not), for a client's PoolStats.
func readyConns(ccs iter.Seq[*grpc.ClientConn]) int64 {
	var n int64
	for cc := range ccs {
		if cc != nil && cc.GetState() == connectivity.Ready {
			n++
		}
	}
	return n
}

// watchGRPC follows cc's connectivity state until ctx is done and calls
// lost each time a READY connection falls back (IDLE, TRANSIENT_FAILURE,
// SHUTDOWN); an idle connection is asked to reconnect. what names the
// connection in the reason ("milvus connection to host:port").
func watchGRPC(ctx context.Context, cc *grpc.ClientConn, what string, lost func(reason string)) {
	cc.Connect()
	ready := false
	for {
		s := cc.GetState()
		switch s {
		case connectivity.Ready:
			ready = true
		case connectivity.Idle, connectivity.TransientFailure, connectivity.Shutdown:
			if ready {
				ready = false
				lost(fmt.Sprintf("%s lost (%s after %s)", what, s, connectivity.Ready))
			}
			if s == connectivity.Idle {
				cc.Connect()
			}
		}
		if !cc.WaitForStateChange(ctx, s) {
			return
		}
	}
}
