package probes

import "fmt"

// PostgresFacts are what one PostgreSQL probe observes.
type PostgresFacts struct {
	// Version is server_version, e.g. "15.20 (Debian 15.20-0+deb12u1)".
	Version string `json:"version"`
	// ConnectionsInUse counts client backends in pg_stat_activity.
	ConnectionsInUse int `json:"connections_in_use"`
	// MaxConnections is the max_connections setting.
	MaxConnections int `json:"max_connections"`
	// ReservedConnections is superuser_reserved_connections.
	ReservedConnections int `json:"reserved_connections"`
	// InRecovery is pg_is_in_recovery(): true on a replica.
	InRecovery bool `json:"in_recovery"`
	// ReplicaLagSeconds is the replay lag of a replica (nil on a primary, or
	// when the replica has replayed nothing yet).
	ReplicaLagSeconds *float64 `json:"replica_lag_seconds,omitempty"`
	// UptimeSeconds is the time since the postmaster started.
	UptimeSeconds float64 `json:"uptime_seconds"`
	// Pool is the client's pool statistics after the probe.
	Pool PoolStats `json:"pool"`
}

// Health is DEGRADED when connections in use exceed l.ConnRatio of
// max_connections or a replica lags more than l.ReplicaLag; UP otherwise.
func (f PostgresFacts) Health(l Limits) (State, string) {
	l = l.WithDefaults()
	var why []string
	why = aboveRatio(why, "connections in use", f.ConnectionsInUse, f.MaxConnections, "", l.ConnRatio)
	if f.InRecovery && f.ReplicaLagSeconds != nil && *f.ReplicaLagSeconds > l.ReplicaLag.Seconds() {
		why = append(why, fmt.Sprintf("replica lag %.1fs above %s", *f.ReplicaLagSeconds, l.ReplicaLag))
	}
	return degradedBy(why)
}
