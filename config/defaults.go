package config

import (
	"time"

	"github.com/dbhealth/database-service/probes"
)

// Built-in defaults that Go code needs as values. Each is defined here
// once (the schedule's in probes, which a Target falls back to): the envDefault tag of its variable in Config must spell the same
// value (a test holds them together, and the README's table to them), and
// the targets file's per-kind defaults use these constants.
const (
	// DefaultProbeInterval is PROBE_INTERVAL's default.
	DefaultProbeInterval = 30 * time.Second
	// DefaultProbeTimeout is PROBE_TIMEOUT's default.
	DefaultProbeTimeout = probes.DefaultTimeout
	// DefaultFailureThreshold is FAILURE_THRESHOLD's default: consecutive
	// failures to go DOWN.
	DefaultFailureThreshold = probes.DefaultFailureThreshold
	// DefaultSuccessThreshold is SUCCESS_THRESHOLD's default: consecutive
	// successes to come back.
	DefaultSuccessThreshold = probes.DefaultSuccessThreshold

	// DefaultPostgresUser is POSTGRES_USER's default, and the username of
	// a targets-file postgres target that gives none.
	DefaultPostgresUser = "postgres"
	// DefaultRabbitMQVHost is RABBITMQ_VHOST's default, and the vhost of a
	// targets-file rabbitmq target that gives none.
	DefaultRabbitMQVHost = "/"
	// DefaultNacosNamespace and DefaultNacosGroup are NACOS_NAMESPACE's
	// and NACOS_GROUP's defaults, and those of a targets-file nacos target.
	DefaultNacosNamespace = "public"
	DefaultNacosGroup     = "DEFAULT_GROUP"
)

// fileTargetPostgresDatabase is the database of a targets-file postgres
// target that gives none (POSTGRES_DB's default, carbon_db, is the seed's
// database, not a server's).
const fileTargetPostgresDatabase = "postgres"
