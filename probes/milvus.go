package probes

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	grpcretry "github.com/grpc-ecosystem/go-grpc-middleware/retry"
	"github.com/milvus-io/milvus-proto/go-api/v2/commonpb"
	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"github.com/milvus-io/milvus-sdk-go/v2/client"
	"github.com/milvus-io/milvus-sdk-go/v2/common"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
)

var errMilvusClosed = errors.New("milvus: client closed")

// OpenMilvus returns the Client of a Milvus target (t.Host, t.Port; TLS
// after t.TLS). It does no I/O: the first Probe dials, with the probe's
// deadline, and a probe that fails drops the connection so that the next
// one dials again. t.Username and t.Password authenticate; a password
// without a user name is sent as an API key.
//
// The client also implements Watcher over its own gRPC connection.
func OpenMilvus(ctx context.Context, t Target) (Client, error) {
	if t.Host == "" || t.Port <= 0 || t.Port > 65535 {
		return nil, Fail(ErrKindConfig, fmt.Errorf("milvus: need a host and a port 1-65535, got %q", t.Addr()))
	}
	tlsCfg, err := tlsConfig(t)
	if err != nil {
		return nil, err
	}
	return &milvusClient{target: t, creds: milvusCredentials(tlsCfg), sem: make(chan struct{}, 1)}, nil
}

// milvusCredentials are the gRPC transport credentials of a TLS
// configuration (nil: plain text).
func milvusCredentials(tlsCfg *tls.Config) credentials.TransportCredentials {
	if tlsCfg == nil {
		return insecure.NewCredentials()
	}
	return permanentHandshake{credentials.NewTLS(tlsCfg)}
}

// milvusClient is the long-lived Client of one Milvus target.
type milvusClient struct {
	target Target
	// creds secure both gRPC connections, after t.TLS.
	creds credentials.TransportCredentials

	// sem admits one probe at a time; its holder owns sdk, version and
	// deployMode.
	sem        chan struct{}
	sdk        *client.GrpcClient
	version    string
	deployMode string

	closed atomic.Bool
	// mu guards the connections Stats looks at.
	mu        sync.Mutex
	conn      *grpc.ClientConn // the SDK's, nil when not dialled
	watchConn *grpc.ClientConn // Watch's, nil when not watching

	counter probeCounter
}

// Probe dials if needed, then calls CheckHealth. An unhealthy or
// quota-limited server is a verdict of the facts, not an error.
func (c *milvusClient) Probe(ctx context.Context) (Facts, error) {
	f, err := count(&c.counter, func() (Facts, error) { return c.probeOnce(ctx) })
	if err != nil {
		return nil, err
	}
	return f, nil
}

func (c *milvusClient) probeOnce(ctx context.Context) (Facts, error) {
	if err := enterProbe(ctx, c.sem, Milvus, &c.closed, errMilvusClosed); err != nil {
		return nil, err
	}
	defer func() { <-c.sem }()
	if c.sdk == nil {
		if err := c.dial(ctx); err != nil {
			return nil, err
		}
	}
	f, err := c.checkHealth(ctx)
	if err != nil {
		c.drop()
		return nil, err
	}
	return f, nil
}

// milvusNoRetry turns off the SDK's retry interceptor (Unavailable and
// ResourceExhausted, six times with backoff) for one call: a probe reports
// what it sees within its own deadline.
var milvusNoRetry = grpcretry.Disable()

// dial connects the SDK client (blocking, bounded by ctx), does the Connect
// handshake and reads the version. Called with sem held.
func (c *milvusClient) dial(ctx context.Context) error {
	t := c.target
	cfg := client.Config{
		Address:  t.Addr(),
		Username: t.Username,
		Password: t.Password.Reveal(),
		// The SDK's own credentials (TLS without verification settings,
		// or plain) are replaced by c.creds, which come later.
		EnableTLSAuth: t.TLS.Enabled(),
		DialOptions:   append(milvusDialOptions(true), grpc.WithTransportCredentials(c.creds)),
		// The SDK's Connect would leak the dialled connection when it
		// fails (NewClient drops it unclosed) and retries Unavailable:
		// this client does the handshake itself.
		DisableConn: true,
		// No retry on rate-limit answers either.
		RetryRateLimit: &client.RetryRateLimitOption{},
	}
	if t.Username == "" && t.Password.IsSet() {
		cfg.Password, cfg.APIKey = "", t.Password.Reveal()
	}
	cl, err := client.NewClient(ctx, cfg)
	if err != nil {
		return milvusRPCError("dial", err)
	}
	gc, ok := cl.(*client.GrpcClient)
	if !ok || gc.Service == nil || gc.Conn == nil {
		_ = cl.Close()
		return Fail(ErrKindProtocol, fmt.Errorf("milvus: unexpected SDK client %T", cl))
	}
	c.sdk = gc
	if err := c.handshake(ctx); err != nil {
		c.drop()
		return err
	}
	c.mu.Lock()
	c.conn = gc.Conn
	c.mu.Unlock()
	return nil
}

// handshake sends Connect (as the SDK would) and GetVersion.
func (c *milvusClient) handshake(ctx context.Context) error {
	host, _ := os.Hostname()
	resp, err := c.sdk.Service.Connect(ctx, &milvuspb.ConnectRequest{
		ClientInfo: &commonpb.ClientInfo{
			SdkType:    "Golang",
			SdkVersion: common.SDKVersion,
			LocalTime:  time.Now().String(),
			User:       c.target.Username,
			Host:       host,
			Reserved:   map[string]string{"client": "database-service"},
		},
	}, milvusNoRetry)
	// A server older than 2.2.9 has no Connect; carry on.
	answered, err := milvusOptionalAnswer("connect", err, resp.GetStatus())
	if err != nil {
		return err
	}
	if answered {
		c.deployMode = resp.GetServerInfo().GetDeployMode()
		c.version = resp.GetServerInfo().GetBuildTags()
	}
	v, err := c.sdk.Service.GetVersion(ctx, &milvuspb.GetVersionRequest{}, milvusNoRetry)
	answered, err = milvusOptionalAnswer("get version", err, v.GetStatus())
	if err != nil {
		return err
	}
	if answered && v.GetVersion() != "" {
		c.version = v.GetVersion()
	}
	return nil
}

// checkHealth calls CheckHealth. Called with sem held and sdk set.
func (c *milvusClient) checkHealth(ctx context.Context) (Facts, error) {
	resp, err := c.sdk.Service.CheckHealth(ctx, &milvuspb.CheckHealthRequest{}, milvusNoRetry)
	if err != nil {
		return nil, milvusRPCError("check health", err)
	}
	f := MilvusFacts{
		Version:    c.version,
		DeployMode: c.deployMode,
		Healthy:    resp.GetIsHealthy(),
		Reasons:    resp.GetReasons(),
	}
	for _, q := range resp.GetQuotaStates() {
		f.QuotaStates = append(f.QuotaStates, q.String())
	}
	if st := resp.GetStatus(); !milvusStatusOK(st) {
		serr := milvusStatusError("check health", st)
		if Classify(serr) == ErrKindAuth {
			return nil, serr
		}
		// A proxy that is not ready answers with a failed status.
		f.Healthy = false
		if st.GetReason() != "" {
			f.Reasons = append(f.Reasons, st.GetReason())
		}
	}
	return f, nil
}

// drop closes the SDK client so that the next probe dials again. Called
// with sem held.
func (c *milvusClient) drop() {
	if c.sdk != nil {
		_ = c.sdk.Close()
	}
	c.sdk, c.version, c.deployMode = nil, "", ""
	c.mu.Lock()
	c.conn = nil
	c.mu.Unlock()
}

// Stats counts the gRPC connections that are ready (the probes' and the
// watcher's) and the probes.
func (c *milvusClient) Stats() PoolStats {
	c.mu.Lock()
	open := readyConns(slices.Values([]*grpc.ClientConn{c.conn, c.watchConn}))
	c.mu.Unlock()
	return c.counter.stats(open)
}

// Close closes the probes' connection, waiting for a probe in flight to
// end (probes are bounded by their deadline). A running Watch stops with
// its context.
func (c *milvusClient) Close() error {
	c.closed.Store(true)
	c.sem <- struct{}{}
	c.drop()
	<-c.sem
	return nil
}

// milvusDialOptions are the gRPC options of a Milvus connection. block
// makes the dial wait until the connection is ready (what the SDK needs),
// failing at once when the connection is refused. Transport credentials
// are added by the caller (the SDK adds its own).
func milvusDialOptions(block bool) []grpc.DialOption {
	opts := []grpc.DialOption{
		// 10s is gRPC's minimum client keepalive; a silent peer is
		// noticed after Time+Timeout.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                10 * time.Second,
			Timeout:             5 * time.Second,
			PermitWithoutStream: true,
		}),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff: backoff.Config{
				BaseDelay:  100 * time.Millisecond,
				Multiplier: 1.6,
				Jitter:     0.2,
				MaxDelay:   3 * time.Second,
			},
			MinConnectTimeout: 3 * time.Second,
		}),
	}
	if block {
		opts = append(opts, grpc.WithBlock(), grpc.FailOnNonTempDialError(true))
	}
	return opts
}
