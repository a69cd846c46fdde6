// Package probes observes databases. A probe is a function of (ctx, target)
// that returns the facts it saw; health rules that turn facts into a State are
// separate pure functions. The package also owns the long-lived clients
// (Manager), the watchers that notice a lost connection at once, and the
// Scheduler. It never imports the event bus, the store or the HTTP layer.
package probes

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/events"
)

// Kind is a database type (the events vocabulary). Its string is the
// `database_type` of the API and the last word of the event routing keys.
type Kind = events.Kind

// The six kinds of database the service watches (see events.Kind).
const (
	Postgres      = events.KindPostgres
	Elasticsearch = events.KindElasticsearch
	Milvus        = events.KindMilvus
	Redis         = events.KindRedis
	Nacos         = events.KindNacos
	RabbitMQ      = events.KindRabbitMQ
)

// Kinds lists every supported kind in a stable order.
var Kinds = events.Kinds

// Limits are the thresholds above which an otherwise healthy target is
// DEGRADED. Zero values mean "use the default".
type Limits struct {
	// ConnRatio: PostgreSQL connections in use / max_connections, Redis
	// connected_clients / maxclients. Default 0.9.
	ConnRatio float64 `yaml:"conn_ratio" json:"conn_ratio"`
	// MemoryRatio: Redis used_memory / maxmemory. Default 0.9.
	MemoryRatio float64 `yaml:"memory_ratio" json:"memory_ratio"`
	// ReplicaLag: PostgreSQL replay lag on a replica. Default 30s.
	ReplicaLag time.Duration `yaml:"replica_lag" json:"replica_lag"`
}

// Defaults for Limits.
const (
	DefaultConnRatio   = 0.9
	DefaultMemoryRatio = 0.9
	DefaultReplicaLag  = 30 * time.Second
)

// WithDefaults returns l with zero fields replaced by the defaults.
func (l Limits) WithDefaults() Limits {
	l.ConnRatio = orDefault(l.ConnRatio, DefaultConnRatio)
	l.MemoryRatio = orDefault(l.MemoryRatio, DefaultMemoryRatio)
	l.ReplicaLag = orDefault(l.ReplicaLag, DefaultReplicaLag)
	return l
}

// orDefault is v, or def when v is zero or negative: how the defaults of
// durations, ratios and counts are filled in.
func orDefault[T ~int | ~int64 | ~float64](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Target is one database instance to watch, with everything needed to
// connect to it and the schedule and thresholds that apply to it.
type Target struct {
	Kind Kind
	Name string

	// Host and Port address the target. For kinds with several addresses
	// (Elasticsearch URLs, Nacos servers) they hold the first one and
	// Addresses holds them all.
	Host      string
	Port      int
	Addresses []string

	Username string
	Password secret.String

	// Database is the PostgreSQL database name.
	Database string
	// DB is the Redis logical database index.
	DB int
	// VHost is the RabbitMQ virtual host ("/" when empty).
	VHost string
	// ManagementURL is the RabbitMQ management API base URL (optional).
	ManagementURL string
	// Namespace and Group are the Nacos namespace and group.
	Namespace string
	Group     string
	// TLS is the target's TLS mode and files. Every kind honours it:
	// PostgreSQL, Redis, AMQPS (and the management API over https),
	// Elasticsearch (https), Milvus and Nacos (gRPC and HTTP).
	TLS TLS

	// Interval is how often the target is probed.
	Interval time.Duration
	// Timeout bounds one probe (DefaultTimeout when zero).
	Timeout time.Duration
	// FailureThreshold bad observations in a row leave UP, and
	// SuccessThreshold UP observations in a row come back
	// (DefaultFailureThreshold, DefaultSuccessThreshold when below 1).
	FailureThreshold int
	SuccessThreshold int
	Limits           Limits
}

// Defaults of a Target's schedule, the one definition of them in probes.
const (
	DefaultTimeout          = 5 * time.Second
	DefaultFailureThreshold = 3
	DefaultSuccessThreshold = 2
)

// WithDefaults returns t with a zero Timeout, a threshold below 1 and zero
// Limits replaced by the defaults. The Manager and the Scheduler keep
// their targets with the defaults filled in.
func (t Target) WithDefaults() Target {
	t.Timeout = orDefault(t.Timeout, DefaultTimeout)
	t.FailureThreshold = orDefault(t.FailureThreshold, DefaultFailureThreshold)
	t.SuccessThreshold = orDefault(t.SuccessThreshold, DefaultSuccessThreshold)
	t.Limits = t.Limits.WithDefaults()
	return t
}

// byID maps the targets by ID, with their defaults filled in.
func byID(ts []Target) map[string]Target {
	m := make(map[string]Target, len(ts))
	for _, t := range ts {
		m[t.ID()] = t.WithDefaults()
	}
	return m
}

// targetTimeout is t's probe timeout, or the default.
func targetTimeout(t Target) time.Duration { return t.WithDefaults().Timeout }

// ID is the target's identity across the service: "<kind>/<name>".
func (t Target) ID() string { return string(t.Kind) + "/" + t.Name }

// Addr is host:port.
func (t Target) Addr() string { return net.JoinHostPort(t.Host, strconv.Itoa(t.Port)) }

// Secrets lists the credentials of t, for scrubbing error messages.
func (t Target) Secrets() []secret.String { return []secret.String{t.Password} }

// String prints the target without credentials.
func (t Target) String() string { return fmt.Sprintf("%s(%s)", t.ID(), t.Addr()) }
