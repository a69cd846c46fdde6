package probes

import (
	"fmt"
	"strings"
)

// MilvusFacts are what one Milvus probe observed: the CheckHealth answer
// and the server version (fetched once per connection).
type MilvusFacts struct {
	Version string `json:"version,omitempty"`
	// DeployMode is STANDALONE or CLUSTER when the server tells it at
	// Connect (Milvus 2.3 and later).
	DeployMode string `json:"deploy_mode,omitempty"`
	Healthy    bool   `json:"is_healthy"`
	// Reasons explain an unhealthy verdict or, on a healthy server, the
	// quota states.
	Reasons []string `json:"reasons,omitempty"`
	// QuotaStates are the names of the quota states in force: ReadLimited,
	// WriteLimited, DenyToRead, DenyToWrite.
	QuotaStates []string `json:"quota_states,omitempty"`
}

// Health judges the facts: an unhealthy server is DOWN (with its reasons);
// a healthy one under any quota state (reads limited or denied, writes
// limited or denied) is DEGRADED; otherwise UP. Limits do not apply.
func (f MilvusFacts) Health(Limits) (State, string) {
	if !f.Healthy {
		if len(f.Reasons) == 0 {
			return StateDown, "milvus reports unhealthy"
		}
		return StateDown, "milvus unhealthy: " + strings.Join(f.Reasons, "; ")
	}
	var limited []string
	for _, q := range f.QuotaStates {
		if q != "" && q != "Unknown" {
			limited = append(limited, q)
		}
	}
	if len(limited) == 0 {
		return StateUp, ""
	}
	reason := fmt.Sprintf("quota states %s", strings.Join(limited, ", "))
	if len(f.Reasons) > 0 {
		reason += ": " + strings.Join(f.Reasons, "; ")
	}
	return StateDegraded, reason
}
