package probes

import (
	"fmt"
	"strings"
)

// NacosFacts are what one Nacos probe observes: the HTTP readiness of every
// configured server, the server version, and whether the nacos-sdk-go
// naming client holds a working gRPC connection (port + 1000).
type NacosFacts struct {
	// Version is the server version (/nacos/v1/console/server/state),
	// empty when the server does not tell.
	Version string `json:"version,omitempty"`
	// AuthEnabled is the server's auth switch as it reports it; nil when
	// unknown.
	AuthEnabled *bool  `json:"auth_enabled,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Group       string `json:"group,omitempty"`

	// Servers is the readiness of each configured server, in order.
	Servers      []NacosServerFacts `json:"servers"`
	ServersReady int                `json:"servers_ready"`

	// SDKConnected: a naming request through the SDK succeeded and the
	// SDK reports the server healthy.
	SDKConnected bool   `json:"sdk_connected"`
	SDKError     string `json:"sdk_error,omitempty"`
	// Services is the number of services with instances in Namespace and
	// Group, as the SDK listed them (0 when not connected).
	Services int64 `json:"services"`

	// Pool is the client's statistics after the probe.
	Pool PoolStats `json:"pool"`
}

// NacosServerFacts is the readiness of one server.
type NacosServerFacts struct {
	Address string `json:"address"`
	Ready   bool   `json:"ready"`
	// Status is the HTTP status of /nacos/v1/console/health/readiness
	// (0 when the request failed).
	Status int `json:"status,omitempty"`
	// Reason is the readiness answer when not ready, or the request error.
	Reason string `json:"reason,omitempty"`
}

// Health is DOWN when the SDK has no working gRPC connection (Nacos 2
// clients cannot work without it), DEGRADED when the SDK works but some or
// all servers answer readiness with an error, UP otherwise.
func (f NacosFacts) Health(Limits) (State, string) {
	notReady := f.notReady()
	if !f.SDKConnected {
		why := "gRPC: not connected"
		if f.SDKError != "" {
			why = "gRPC: " + f.SDKError
		}
		if len(notReady) > 0 {
			why = strings.Join(notReady, "; ") + "; " + why
		}
		return StateDown, why
	}
	if len(notReady) > 0 {
		return StateDegraded, fmt.Sprintf("%d/%d servers not ready: %s",
			len(notReady), len(f.Servers), strings.Join(notReady, "; "))
	}
	return StateUp, ""
}

// notReady describes each server that is not ready.
func (f NacosFacts) notReady() []string {
	var out []string
	for _, s := range f.Servers {
		if s.Ready {
			continue
		}
		switch {
		case s.Status != 0 && s.Reason != "":
			out = append(out, fmt.Sprintf("%s readiness %d: %s", s.Address, s.Status, s.Reason))
		case s.Status != 0:
			out = append(out, fmt.Sprintf("%s readiness %d", s.Address, s.Status))
		default:
			out = append(out, fmt.Sprintf("%s unreachable: %s", s.Address, orUnknown(s.Reason)))
		}
	}
	return out
}
