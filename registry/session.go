package registry

import "github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"

// The session state changes, each under r.mu.

// attach starts a session on cl: connected, not yet registered.
func (r *Registry) attach(cl naming_client.INamingClient, servers string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	r.client = cl
	r.server, r.state = servers, StateConnected
	return r.gen
}

// detach forgets the client when Run ends.
func (r *Registry) detach() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.client = nil
}

func (r *Registry) isRegistered() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.registered
}

func (r *Registry) setConnecting(server string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.server, r.state = server, StateConnecting
}

func (r *Registry) setFailed(server, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lastErr != msg {
		r.logger.Warn("nacos unreachable", "server", server, "err", msg)
	}
	r.server, r.state, r.registered, r.lastErr = server, StateDisconnected, false, msg
}

// setLost ends session gen: registrations in flight through it no longer
// count, and the next session registers again.
func (r *Registry) setLost(gen int, server, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logger.Warn("nacos connection lost", "server", server, "err", msg)
	if r.gen == gen {
		r.gen++
	}
	r.state, r.registered, r.lastErr = StateDisconnected, false, msg
}

func (r *Registry) setStopped() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state, r.registered = StateStopped, false
}
