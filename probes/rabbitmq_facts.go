package probes

// RabbitMQFacts are what one RabbitMQ probe observes.
type RabbitMQFacts struct {
	// Product, Version, Platform and ClusterName are the server properties
	// of the AMQP handshake.
	Product     string `json:"product"`
	Version     string `json:"version"`
	Platform    string `json:"platform,omitempty"`
	ClusterName string `json:"cluster_name,omitempty"`
	VHost       string `json:"vhost"`
	// Blocked is true while the broker blocks publishing connections
	// (connection.blocked, sent on a memory or disk alarm).
	Blocked       bool   `json:"blocked"`
	BlockedReason string `json:"blocked_reason,omitempty"`
	// Management holds the management API health checks, when a
	// management URL is configured.
	Management []RabbitMQHealthCheck `json:"management,omitempty"`
	// Pool is the client's connection statistics after the probe.
	Pool PoolStats `json:"pool"`
}

// RabbitMQHealthCheck is the outcome of one management API health check
// (/api/health/checks/<Check>).
type RabbitMQHealthCheck struct {
	Check string `json:"check"`
	OK    bool   `json:"ok"`
	// Status is the HTTP status (0 when the API could not be reached).
	Status int `json:"status,omitempty"`
	// Reason explains a failed check: the alarms in effect, or why the
	// API could not answer.
	Reason string `json:"reason,omitempty"`
}

// Health is DEGRADED while the broker blocks connections or a management
// health check fails (a resource alarm, or an API that cannot be asked);
// UP otherwise.
func (f RabbitMQFacts) Health(Limits) (State, string) {
	var why []string
	if f.Blocked {
		why = append(why, "connection blocked: "+orUnknown(f.BlockedReason))
	}
	for _, c := range f.Management {
		if !c.OK {
			why = append(why, c.Check+": "+orUnknown(c.Reason))
		}
	}
	return degradedBy(why)
}
