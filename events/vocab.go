package events

// The vocabulary every package shares: the kinds of database, the states
// of a target and the severities of an alert. probes, coordination,
// projections, the stores' Lua and the api all use these names.

// Kind is a database type. Its string is a target's "type" in events, the
// `database_type` of the API and the last word of the routing keys.
type Kind string

// The six kinds of database the service watches.
const (
	KindPostgres      Kind = "postgres"
	KindElasticsearch Kind = "elasticsearch"
	KindMilvus        Kind = "milvus"
	KindRedis         Kind = "redis"
	KindNacos         Kind = "nacos"
	KindRabbitMQ      Kind = "rabbitmq"
)

// Kinds lists every kind in a stable order.
var Kinds = []Kind{KindPostgres, KindElasticsearch, KindMilvus, KindRedis, KindNacos, KindRabbitMQ}

// Valid reports whether k is one of Kinds.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if v == k {
			return true
		}
	}
	return false
}

// State is the health of a target.
type State string

// The states a target can be in. UNKNOWN is the state before the first
// decision; probes themselves only ever report UP, DEGRADED or DOWN.
const (
	StateUnknown  State = "UNKNOWN"
	StateUp       State = "UP"
	StateDegraded State = "DEGRADED"
	StateDown     State = "DOWN"
)

// Valid reports whether s is one of the four states.
func (s State) Valid() bool {
	switch s {
	case StateUnknown, StateUp, StateDegraded, StateDown:
		return true
	}
	return false
}

// Rank orders states from best to worst (UP < DEGRADED < DOWN), UNKNOWN
// counting as the least severe.
func (s State) Rank() int {
	switch s {
	case StateUp:
		return 1
	case StateDegraded:
		return 2
	case StateDown:
		return 3
	}
	return 0
}

// Bad reports whether s is a state an alert fires for (DOWN, DEGRADED).
func (s State) Bad() bool { return s == StateDown || s == StateDegraded }

// Severity is the severity of an alert.
type Severity string

// The severities: critical while DOWN, warning while DEGRADED.
const (
	SeverityCritical Severity = "critical"
	SeverityWarning  Severity = "warning"
)

// SeverityOf is the severity of the alert a target in state s is in, ""
// for the states without an alert.
func SeverityOf(s State) Severity {
	switch s {
	case StateDown:
		return SeverityCritical
	case StateDegraded:
		return SeverityWarning
	}
	return ""
}
