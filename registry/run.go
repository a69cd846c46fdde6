package registry

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// errSessionEnded: the session a registration was sent through ended
// before the answer came; the next session registers again.
var errSessionEnded = errors.New("registry: nacos session ended; registration will be sent again")

// heartbeatFailures is how many heartbeats in a row may fail before the
// session's connection is taken as lost.
const heartbeatFailures = 2

// Run registers this replica and keeps it registered until ctx is done,
// then deregisters it and returns nil. Nacos being down or refusing is not
// an error: Run retries with backoff and Status tells. A disabled registry
// just waits for ctx.
//
// Run builds one SDK naming client, over every server, once a server's
// gRPC port first accepts a connection, and keeps it for its lifetime:
// re-registrations after a lost connection, failed heartbeats or a Nacos
// restart go through the same client (the SDK reconnects it and fails
// over between the servers). The client is closed once, when Run returns.
func (r *Registry) Run(ctx context.Context) error {
	if !r.cfg.Enabled {
		<-ctx.Done()
		return nil
	}
	defer r.setStopped()
	var cl naming_client.INamingClient
	defer func() {
		if cl != nil {
			r.detach()
			cl.CloseClient()
		}
	}()
	subscribed := false
	delay := r.cfg.RetryMin
	for i := 0; ; i++ {
		var established bool
		if cl == nil {
			cl = r.connect(ctx, r.cfg.Servers[i%len(r.cfg.Servers)])
		}
		if cl != nil {
			established = r.session(ctx, cl, &subscribed)
		}
		if ctx.Err() != nil {
			return nil
		}
		if established {
			delay = r.cfg.RetryMin
		} else if i%len(r.cfg.Servers) == len(r.cfg.Servers)-1 {
			delay = min(2*delay, r.cfg.RetryMax)
		}
		t := time.NewTimer(jitter(delay))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// connect builds the registry's naming client once server's gRPC port
// accepts a connection (against a dead server the SDK builds a client
// anyway, which only connects on its own reconnect schedule, up to 5s
// apart). It returns nil when the port is unreachable or ctx ends.
func (r *Registry) connect(ctx context.Context, server string) naming_client.INamingClient {
	r.setConnecting(server)
	cc, err := dialReady(ctx, grpcAddr(server), r.cfg.Timeout)
	if err != nil {
		r.setFailed(server, err.Error())
		return nil
	}
	_ = cc.Close()
	cl, err := r.newNamingClient(ctx)
	if err != nil {
		r.setFailed(server, err.Error())
		return nil
	}
	return cl
}

// session keeps this replica registered through cl while the SDK client
// stays connected, until the connection is lost, heartbeats fail or ctx is
// done (then it deregisters). It reports whether the client was connected
// at all. Nothing is sent while the SDK reports itself disconnected: its
// requests would only wait for its reconnect.
func (r *Registry) session(ctx context.Context, cl naming_client.INamingClient, subscribed *bool) bool {
	servers := strings.Join(r.cfg.Servers, ",")
	if !r.waitHealthy(ctx, cl) {
		if ctx.Err() == nil {
			r.setFailed(servers, "nacos "+servers+" unreachable: the SDK client is not connected")
		}
		return false
	}
	gen := r.attach(cl, servers)
	r.logger.Debug("nacos session", "servers", servers)
	tryRegister := func() {
		if err := r.registerOn(ctx, cl, gen); err != nil {
			return
		}
		if !*subscribed {
			*subscribed = r.subscribe(cl) == nil
		}
	}
	tryRegister()

	tick := time.NewTicker(r.cfg.HeartbeatInterval)
	defer tick.Stop()
	failures := 0
	drift := driftGate{streak: r.streak}
	for {
		select {
		case <-ctx.Done():
			r.deregister(ctx, cl)
			return true
		case <-r.drift:
			if drift.now() {
				tryRegister()
			}
		case <-tick.C:
			if !cl.ServerHealthy() {
				r.setLost(gen, servers, "connection to nacos "+servers+" lost")
				return true
			}
			if !r.isRegistered() || drift.onTick() {
				tryRegister()
				continue
			}
			if err := r.heartbeat(ctx, cl); err != nil {
				failures++
				if failures >= heartbeatFailures {
					r.setLost(gen, servers, "heartbeat to nacos "+servers+" failed: "+err.Error())
					return true
				}
				continue
			}
			failures = 0
			if *subscribed {
				r.refreshPeers(cl)
			}
		}
	}
}

// refreshPeers sets the peers from the SDK's cache of the service, which
// keeps the newest instance list it received. The SDK runs subscription
// callbacks from concurrent pushes, so an older list can be the last one
// delivered (a peer that joined looks absent until the next change); the
// cache has the newer one. No request is sent while the service is
// cached.
func (r *Registry) refreshPeers(cl naming_client.INamingClient) {
	in, err := cl.SelectAllInstances(vo.SelectAllInstancesParam{ServiceName: r.cfg.ServiceName, GroupName: r.cfg.Group})
	if err == nil {
		r.setPeers(in)
	}
}

// waitHealthy waits up to the request timeout for cl to be connected.
func (r *Registry) waitHealthy(ctx context.Context, cl naming_client.INamingClient) bool {
	deadline := time.NewTimer(r.cfg.Timeout)
	defer deadline.Stop()
	poll := time.NewTicker(min(r.cfg.RetryMin, 100*time.Millisecond))
	defer poll.Stop()
	for !cl.ServerHealthy() {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return false
		case <-poll.C:
		}
	}
	return true
}

// newNamingClient builds the registry's SDK client over every server. The
// SDK logs in and connects synchronously, so it runs on its own goroutine;
// a client that arrives after ctx ended is closed.
func (r *Registry) newNamingClient(ctx context.Context) (naming_client.INamingClient, error) {
	param := r.sdkParam(r.cfg.Servers...)
	ch := make(chan naming_client.INamingClient, 1)
	errCh := make(chan error, 1)
	go func() {
		cl, err := r.sdk.newNaming(param)
		if err != nil {
			errCh <- err
			return
		}
		ch <- cl
	}()
	select {
	case cl := <-ch:
		return cl, nil
	case err := <-errCh:
		return nil, fmt.Errorf("nacos SDK client: %w", err)
	case <-ctx.Done():
		go func() {
			select {
			case cl := <-ch:
				cl.CloseClient()
			case <-errCh:
			}
		}()
		return nil, ctx.Err()
	}
}

// registerParam is the instance as desired now.
func (r *Registry) registerParam() vo.RegisterInstanceParam {
	r.mu.Lock()
	defer r.mu.Unlock()
	return vo.RegisterInstanceParam{
		Ip:          r.ip,
		Port:        uint64(r.cfg.Port),
		Weight:      r.weight,
		Enable:      r.enabled,
		Healthy:     true,
		Ephemeral:   true,
		Metadata:    r.metadataLocked(),
		ServiceName: r.cfg.ServiceName,
		GroupName:   r.cfg.Group,
	}
}

// register sends the desired instance through cl, serialised with every
// other registration. The SDK call finishes even if ctx ends first.
func (r *Registry) register(ctx context.Context, cl naming_client.INamingClient) error {
	select {
	case r.regSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout*time.Duration(2))
	defer cancel()
	param := r.registerParam()
	ok, err := callWithin(ctx, func() (bool, error) {
		defer func() { <-r.regSem }()
		return cl.RegisterInstance(param)
	})
	switch {
	case err != nil:
		return fmt.Errorf("register: %w", err)
	case !ok:
		return ErrRejected
	}
	return nil
}

// registerOn registers through the client of session gen and records the
// outcome in the status, unless that session has ended meanwhile.
func (r *Registry) registerOn(ctx context.Context, cl naming_client.INamingClient, gen int) error {
	err := r.register(ctx, cl)
	r.mu.Lock()
	defer r.mu.Unlock()
	if gen != r.gen || r.client == nil || r.state != StateConnected {
		if err == nil {
			err = errSessionEnded
		}
		return err
	}
	if err != nil {
		if r.lastErr != err.Error() {
			r.logger.Warn("nacos registration failed", "server", r.server, "err", err)
		}
		r.registered, r.lastErr = false, err.Error()
		return err
	}
	now := time.Now()
	if !r.registered {
		r.logger.Info("registered in nacos", "server", r.server, "instance_id", r.instanceID, "service", r.cfg.ServiceName)
	}
	r.registered, r.lastReg, r.lastBeat, r.lastErr = true, now, now, ""
	return nil
}

// heartbeat is one naming round trip on the session's connection.
func (r *Registry) heartbeat(ctx context.Context, cl naming_client.INamingClient) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout*time.Duration(2))
	defer cancel()
	_, err := callWithin(ctx, func() (model.ServiceList, error) {
		return cl.GetAllServicesInfo(vo.GetAllServiceInfoParam{
			NameSpace: r.cfg.Namespace, GroupName: r.cfg.Group, PageNo: 1, PageSize: 1,
		})
	})
	if err == nil {
		r.mu.Lock()
		r.lastBeat = time.Now()
		r.mu.Unlock()
	}
	return err
}

// subscribe follows the service's instances; the SDK calls back on every
// push, from its own goroutine, and subscribes again by itself after a
// reconnect, so one subscription serves the client's lifetime.
func (r *Registry) subscribe(cl naming_client.INamingClient) error {
	err := cl.Subscribe(&vo.SubscribeParam{
		ServiceName: r.cfg.ServiceName,
		GroupName:   r.cfg.Group,
		SubscribeCallback: func(instances []model.Instance, err error) {
			if err == nil {
				r.setPeers(instances)
				r.checkDrift(instances)
			}
		},
	})
	if err != nil {
		r.logger.Warn("nacos subscribe failed", "service", r.cfg.ServiceName, "err", err)
	}
	return err
}

// setPeers keeps the other healthy, enabled, weighted instances.
func (r *Registry) setPeers(instances []model.Instance) {
	peers := make([]Peer, 0, len(instances))
	for _, in := range instances {
		if !in.Healthy || !in.Enable || in.Weight <= 0 {
			continue
		}
		if in.Ip == r.ip && int(in.Port) == r.cfg.Port {
			continue
		}
		peers = append(peers, Peer{IP: in.Ip, Port: int(in.Port), Metadata: maps.Clone(in.Metadata)})
	}
	slices.SortFunc(peers, func(a, b Peer) int {
		if a.IP != b.IP {
			if a.IP < b.IP {
				return -1
			}
			return 1
		}
		return a.Port - b.Port
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.peers = peers
}

// deregister removes the instance at shutdown (ctx is done), bounded by
// the timeout.
func (r *Registry) deregister(ctx context.Context, cl naming_client.INamingClient) {
	if !r.isRegistered() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.Timeout)
	defer cancel()
	select {
	case r.regSem <- struct{}{}:
	case <-ctx.Done():
		r.logger.Warn("nacos deregistration skipped", "err", ctx.Err())
		return
	}
	ok, err := callWithin(ctx, func() (bool, error) {
		defer func() { <-r.regSem }()
		return cl.DeregisterInstance(vo.DeregisterInstanceParam{
			Ip: r.ip, Port: uint64(r.cfg.Port), ServiceName: r.cfg.ServiceName,
			GroupName: r.cfg.Group, Ephemeral: true,
		})
	})
	switch {
	case err != nil:
		r.logger.Warn("nacos deregistration failed", "err", err)
	case !ok:
		r.logger.Warn("nacos deregistration failed", "err", errors.New("rejected by nacos"))
	default:
		r.logger.Info("deregistered from nacos", "instance_id", r.instanceID)
	}
	r.mu.Lock()
	r.registered = false
	r.mu.Unlock()
}

// jitter spreads d by ±20%.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}
