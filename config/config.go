// Package config loads the service's configuration: one typed struct read
// from environment variables (caarlos0/env) with the seed's names and
// defaults, layered over config/<APP_ENV>.env and .env files, plus any
// number of extra targets from a YAML TARGETS_FILE. Everything is validated
// at start-up; errors name the variable and the bad value, and never echo a
// secret.
//
// Precedence, highest first: real environment variables, .env in the working
// directory, config/<APP_ENV>.env, built-in defaults. Env files only feed
// the configuration; they never change the process environment.
package config

import (
	"time"

	"github.com/dbhealth/database-service/config/logging"
	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/probes"
)

// The values APP_ENV accepts.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvProduction  = "production"
)

// Config is the effective configuration of one replica. Build it with Load;
// a zero Config is not valid.
type Config struct {
	// AppEnv is APP_ENV: development, test or production. It selects
	// config/<AppEnv>.env and the log format (JSON in production).
	AppEnv string `env:"APP_ENV" envDefault:"development" json:"app_env"`
	// Debug is DEBUG: debug-level logging.
	Debug bool `env:"DEBUG" envDefault:"false" json:"debug"`

	Service       ServiceConfig
	Postgres      PostgresConfig
	Elasticsearch ElasticsearchConfig
	Milvus        MilvusConfig
	Redis         RedisConfig
	RabbitMQ      RabbitMQConfig
	Nacos         NacosConfig
	Registry      RegistryConfig
	Probe         ProbeConfig
	Log           LogConfig
	Bus           BusConfig
	Store         StoreConfig
	History       HistoryConfig
	Alerts        AlertsConfig

	// loaded holds what Load found besides the variables. It is a pointer
	// so that printing a Config with %v or %+v (which cannot call the
	// secret type's methods on unexported fields) shows an address, never
	// the passwords of the file targets.
	loaded *loadState
}

// loadState is what Load records besides the variables.
type loadState struct {
	// fileTargets are the targets read from TARGETS_FILE.
	fileTargets []probes.Target
	// fileAlerting is the delivery part of TARGETS_FILE.
	fileAlerting Alerting
	// sources maps each variable (and file target) to where its value came from.
	sources map[string]string
	// files are the env files that were read, in the order applied.
	files []string
	// warnings are non-fatal findings (unknown keys in env files).
	warnings []string
}

// state returns c.loaded, never nil.
func (c *Config) state() *loadState {
	if c.loaded == nil {
		return &loadState{}
	}
	return c.loaded
}

// ServiceConfig is the service's own identity and HTTP server.
type ServiceConfig struct {
	// Name is DB_SERVICE_NAME, also the service name registered in Nacos.
	Name string `env:"DB_SERVICE_NAME" envDefault:"database-service" json:"name"`
	// Port is DB_SERVICE_PORT, the HTTP port.
	Port int `env:"DB_SERVICE_PORT" envDefault:"8089" json:"port"`
	// IP is SERVICE_IP, the address registered in Nacos. Empty means the
	// first non-loopback address, resolved by the registry at start-up.
	IP string `env:"SERVICE_IP" json:"ip"`
	// ReplicaID is REPLICA_ID, this replica's identity in events and claims.
	// Default: "<hostname>-<pid>-<random hex>".
	ReplicaID string `env:"REPLICA_ID" json:"replica_id"`
	// DataDir is DATA_DIR, where the service keeps local state (the Nacos
	// SDK's log and cache directories, ...). Default:
	// filepath.Join(os.TempDir(), "database-service"). Relative paths are
	// resolved against the working directory.
	DataDir string `env:"DATA_DIR" json:"data_dir"`
	// ShutdownTimeout is SHUTDOWN_TIMEOUT, the bound on a graceful stop.
	ShutdownTimeout time.Duration `env:"SHUTDOWN_TIMEOUT" envDefault:"15s" json:"shutdown_timeout"`
	// APIToken is API_TOKEN: when set, required as a Bearer token on every
	// POST and on GET /api/database/config.
	APIToken secret.String `env:"API_TOKEN" json:"api_token"`
	// APIAuth is API_AUTH: "writes" (the default) asks the token on the
	// writes and the configuration only; "all" on every /api route, the
	// event stream included, and on /metrics unless MetricsPublic.
	APIAuth string `env:"API_AUTH" envDefault:"writes" json:"-"`
	// MetricsPublic is METRICS_PUBLIC: with API_AUTH=all, leave /metrics
	// open to scrapers without the token.
	MetricsPublic bool `env:"METRICS_PUBLIC" envDefault:"false" json:"-"`
}

// API_AUTH values.
const (
	AuthWrites = "writes"
	AuthAll    = "all"
)

// PostgresConfig defines the default PostgreSQL target, named "postgres".
type PostgresConfig struct {
	Enabled  bool          `env:"POSTGRES_ENABLED" envDefault:"true" json:"enabled"`
	Host     string        `env:"POSTGRES_HOST" envDefault:"localhost" json:"host"`
	Port     int           `env:"POSTGRES_PORT" envDefault:"5432" json:"port"`
	User     string        `env:"POSTGRES_USER" envDefault:"postgres" json:"user"`
	Password secret.String `env:"POSTGRES_PASSWORD" envDefault:"password" json:"password"`
	DB       string        `env:"POSTGRES_DB" envDefault:"carbon_db" json:"db"`
	// SSLMode is POSTGRES_SSLMODE: disable, require, verify-ca or
	// verify-full (libpq's names; allow and prefer are refused). Empty
	// means disable, or verify-full when a certificate file is given.
	SSLMode string `env:"POSTGRES_SSLMODE" json:"-"`
	// SSLRootCert, SSLCert and SSLKey are POSTGRES_SSLROOTCERT (CA bundle),
	// POSTGRES_SSLCERT and POSTGRES_SSLKEY (client certificate and key):
	// PEM file paths, relative ones against the working directory.
	SSLRootCert string `env:"POSTGRES_SSLROOTCERT" json:"-"`
	SSLCert     string `env:"POSTGRES_SSLCERT" json:"-"`
	SSLKey      string `env:"POSTGRES_SSLKEY" json:"-"`
}

// ElasticsearchConfig defines the default Elasticsearch target, named
// "elasticsearch".
type ElasticsearchConfig struct {
	Enabled bool `env:"ELASTICSEARCH_ENABLED" envDefault:"true" json:"enabled"`
	// Hosts is ELASTICSEARCH_HOSTS, comma-separated http(s) URLs.
	// Credentials in them (http://user:pass@host) are moved to
	// Username/Password at load, so the addresses shown hold no secret.
	Hosts    []string      `env:"ELASTICSEARCH_HOSTS" envDefault:"http://localhost:9200" json:"hosts"`
	Username string        `env:"ELASTICSEARCH_USERNAME" json:"username"`
	Password secret.String `env:"ELASTICSEARCH_PASSWORD" json:"password"`
	// TLS is ELASTICSEARCH_TLS, the mode of the https:// hosts. Empty
	// means verify-full for https:// hosts.
	TLS string `env:"ELASTICSEARCH_TLS" json:"-"`
	// CACert, ClientCert and ClientKey are ELASTICSEARCH_CA_CERT,
	// ELASTICSEARCH_CLIENT_CERT and ELASTICSEARCH_CLIENT_KEY (PEM paths).
	CACert     string `env:"ELASTICSEARCH_CA_CERT" json:"-"`
	ClientCert string `env:"ELASTICSEARCH_CLIENT_CERT" json:"-"`
	ClientKey  string `env:"ELASTICSEARCH_CLIENT_KEY" json:"-"`
}

// TLSVars are the TLS variables of the milvus, redis, rabbitmq and nacos
// targets, <KIND>_TLS, <KIND>_TLS_CA_CERT, <KIND>_TLS_CERT and
// <KIND>_TLS_KEY (postgres and elasticsearch keep their own names).
type TLSVars struct {
	// TLS is <KIND>_TLS: disable, require, verify-ca or verify-full (true
	// and false are verify-full and disable). Empty means disable, or
	// verify-full when a certificate file is given.
	TLS string `env:"TLS"`
	// TLSCACert, TLSCert and TLSKey are <KIND>_TLS_CA_CERT (CA bundle),
	// <KIND>_TLS_CERT and <KIND>_TLS_KEY (client certificate and key):
	// PEM file paths.
	TLSCACert string `env:"TLS_CA_CERT"`
	TLSCert   string `env:"TLS_CERT"`
	TLSKey    string `env:"TLS_KEY"`
}

// MilvusConfig defines the default Milvus target, named "milvus".
type MilvusConfig struct {
	Enabled  bool          `env:"MILVUS_ENABLED" envDefault:"true" json:"enabled"`
	Host     string        `env:"MILVUS_HOST" envDefault:"localhost" json:"host"`
	Port     int           `env:"MILVUS_PORT" envDefault:"19530" json:"port"`
	Username string        `env:"MILVUS_USERNAME" json:"username"`
	Password secret.String `env:"MILVUS_PASSWORD" json:"password"`
	// TLSVars are MILVUS_TLS, MILVUS_TLS_CA_CERT, MILVUS_TLS_CERT and
	// MILVUS_TLS_KEY.
	TLSVars `envPrefix:"MILVUS_" json:"-"`
}

// RedisConfig defines the default Redis target, named "redis". (The
// service's own store is STORE_URL, see StoreConfig.)
type RedisConfig struct {
	Enabled  bool          `env:"REDIS_ENABLED" envDefault:"true" json:"enabled"`
	Host     string        `env:"REDIS_HOST" envDefault:"localhost" json:"host"`
	Port     int           `env:"REDIS_PORT" envDefault:"6379" json:"port"`
	Password secret.String `env:"REDIS_PASSWORD" json:"password"`
	DB       int           `env:"REDIS_DB" envDefault:"0" json:"db"`
	// TLSVars are REDIS_TLS, REDIS_TLS_CA_CERT, REDIS_TLS_CERT and
	// REDIS_TLS_KEY.
	TLSVars `envPrefix:"REDIS_" json:"-"`
}

// RabbitMQConfig defines the default RabbitMQ target, named "rabbitmq".
// (The service's own event bus is BUS_URL, see BusConfig.)
type RabbitMQConfig struct {
	Enabled  bool          `env:"RABBITMQ_ENABLED" envDefault:"true" json:"enabled"`
	Host     string        `env:"RABBITMQ_HOST" envDefault:"localhost" json:"host"`
	Port     int           `env:"RABBITMQ_PORT" envDefault:"5672" json:"port"`
	Username string        `env:"RABBITMQ_USERNAME" envDefault:"guest" json:"username"`
	Password secret.String `env:"RABBITMQ_PASSWORD" envDefault:"guest" json:"password"`
	VHost    string        `env:"RABBITMQ_VHOST" envDefault:"/" json:"vhost"`
	// ManagementURL is RABBITMQ_MANAGEMENT_URL, the management API base URL
	// (http or https, no credentials; Username/Password are used). Empty
	// means the management checks are skipped.
	ManagementURL string `env:"RABBITMQ_MANAGEMENT_URL" json:"management_url"`
	// TLSVars are RABBITMQ_TLS, RABBITMQ_TLS_CA_CERT, RABBITMQ_TLS_CERT and
	// RABBITMQ_TLS_KEY.
	TLSVars `envPrefix:"RABBITMQ_" json:"-"`
}

// NacosConfig defines the default Nacos target, named "nacos", and the Nacos
// the registry registers in and reads live configuration from.
type NacosConfig struct {
	// Enabled is NACOS_ENABLED; it turns the default nacos probe target off,
	// not the registration (see RegistryConfig).
	Enabled bool `env:"NACOS_ENABLED" envDefault:"true" json:"enabled"`
	// Servers is NACOS_SERVERS, comma-separated "host:port" (a bare host
	// gets port 8848). Load normalises every entry to "host:port".
	Servers   []string      `env:"NACOS_SERVERS" envDefault:"localhost:8848" json:"servers"`
	Namespace string        `env:"NACOS_NAMESPACE" envDefault:"public" json:"namespace"`
	Group     string        `env:"NACOS_GROUP" envDefault:"DEFAULT_GROUP" json:"group"`
	Username  string        `env:"NACOS_USERNAME" json:"username"`
	Password  secret.String `env:"NACOS_PASSWORD" json:"password"`
	// ConfigDataID is NACOS_CONFIG_DATA_ID: when set, a Nacos config entry
	// (same YAML as TARGETS_FILE) delivers live target updates.
	ConfigDataID string `env:"NACOS_CONFIG_DATA_ID" json:"config_data_id"`
	// TLSVars are NACOS_TLS, NACOS_TLS_CA_CERT, NACOS_TLS_CERT and
	// NACOS_TLS_KEY.
	TLSVars `envPrefix:"NACOS_" json:"-"`
}

// RegistryConfig controls the registration of this replica in Nacos.
type RegistryConfig struct {
	// Enabled is REGISTRY_ENABLED.
	Enabled bool `env:"REGISTRY_ENABLED" envDefault:"true" json:"enabled"`
}

// ProbeConfig holds the global probing schedule and thresholds, applied to
// the default targets and used as defaults for the TARGETS_FILE targets.
type ProbeConfig struct {
	// Interval is PROBE_INTERVAL.
	Interval time.Duration `env:"PROBE_INTERVAL" envDefault:"30s" json:"interval"`
	// Timeout is PROBE_TIMEOUT; it must be below Interval.
	Timeout time.Duration `env:"PROBE_TIMEOUT" envDefault:"5s" json:"timeout"`
	// Concurrency is PROBE_CONCURRENCY, the global cap on running probes.
	Concurrency int `env:"PROBE_CONCURRENCY" envDefault:"64" json:"concurrency"`
	// RetryInterval is RETRY_INTERVAL, the re-probe delay after a failure
	// until the failure threshold decides.
	RetryInterval time.Duration `env:"RETRY_INTERVAL" envDefault:"1s" json:"retry_interval"`
	// RecoveryBackoff is RECOVERY_BACKOFF: a DOWN or DEGRADED target is
	// re-probed starting at RetryInterval, doubling, capped at its
	// interval, so a recovery is seen within seconds.
	RecoveryBackoff bool `env:"RECOVERY_BACKOFF" envDefault:"true" json:"recovery_backoff"`
	// FailureThreshold is FAILURE_THRESHOLD: consecutive failures to go DOWN.
	FailureThreshold int `env:"FAILURE_THRESHOLD" envDefault:"3" json:"failure_threshold"`
	// SuccessThreshold is SUCCESS_THRESHOLD: consecutive successes to come back.
	SuccessThreshold int `env:"SUCCESS_THRESHOLD" envDefault:"2" json:"success_threshold"`
	// TargetsFile is TARGETS_FILE, a YAML file of extra targets. Load makes
	// a relative path absolute against the working directory.
	TargetsFile string `env:"TARGETS_FILE" json:"targets_file"`
}

// LogConfig is the optional rotated log file (the console always logs).
type LogConfig struct {
	// File is LOG_FILE; empty means console only. Load makes a relative
	// path absolute against the working directory.
	File       string `env:"LOG_FILE" json:"file"`
	MaxSizeMB  int    `env:"LOG_MAX_SIZE_MB" envDefault:"100" json:"max_size_mb"`
	MaxBackups int    `env:"LOG_MAX_BACKUPS" envDefault:"5" json:"max_backups"`
	MaxAgeDays int    `env:"LOG_MAX_AGE_DAYS" envDefault:"28" json:"max_age_days"`
}

// BusConfig is the event bus.
type BusConfig struct {
	// URL is BUS_URL, an amqp:// or amqps:// URL; empty means the embedded
	// in-process bus (one process only).
	URL secret.String `env:"BUS_URL" json:"url"`
	// Exchange is BUS_EXCHANGE, the topic exchange events are published to.
	// Change it only to keep several deployments apart on one broker.
	Exchange string `env:"BUS_EXCHANGE" envDefault:"db.health" json:"exchange"`
}

// Embedded reports whether the in-process bus is used.
func (b BusConfig) Embedded() bool { return !b.URL.IsSet() }

// StoreConfig is the Redis that holds claims, state and read models.
type StoreConfig struct {
	// URL is STORE_URL, a redis:// or rediss:// URL; empty means an embedded
	// Redis inside the process.
	URL secret.String `env:"STORE_URL" json:"url"`
	// KeyPrefix is STORE_KEY_PREFIX, the prefix of every key the service
	// writes. Change it only to keep several deployments apart on one Redis.
	KeyPrefix string `env:"STORE_KEY_PREFIX" envDefault:"dbsvc" json:"key_prefix"`
	// OutboxClaimIdle is OUTBOX_CLAIM_IDLE: how long a transition may stay
	// unpublished with one replica (dead, or cut off from the bus) before
	// another replica's relay takes it over and publishes it. Shorter
	// recovers faster after a crash; a replica stalled for longer than this
	// may see an entry published twice (consumers are idempotent). > 0.
	OutboxClaimIdle time.Duration `env:"OUTBOX_CLAIM_IDLE" envDefault:"10s" json:"outbox_claim_idle"`
	// OutboxMaxLength is OUTBOX_MAX_LENGTH: the most transitions the outbox
	// holds (the bus down for long). A check that would add one more is
	// refused (the state does not move; the target is probed again and
	// the transition made once the relay drained the outbox), counted in
	// dbhealth_outbox_full_total and logged at ERROR. >= 100.
	OutboxMaxLength int `env:"OUTBOX_MAX_LENGTH" envDefault:"100000" json:"-"`
}

// Embedded reports whether the embedded in-process Redis is used.
func (s StoreConfig) Embedded() bool { return !s.URL.IsSet() }

// HistoryConfig bounds the per-target check history.
type HistoryConfig struct {
	// MaxEntries is HISTORY_MAX_ENTRIES, per target.
	MaxEntries int `env:"HISTORY_MAX_ENTRIES" envDefault:"10000" json:"max_entries"`
	// Retention is HISTORY_RETENTION.
	Retention time.Duration `env:"HISTORY_RETENTION" envDefault:"168h" json:"retention"`
}

// AlertsConfig bounds the alert read model.
type AlertsConfig struct {
	// Retention is ALERT_RETENTION, how long resolved alerts are kept.
	Retention time.Duration `env:"ALERT_RETENTION" envDefault:"720h" json:"retention"`
	// Delivery is how alerts reach people (see alerting.go).
	Delivery DeliveryConfig `json:"delivery"`
}

// LoggingOptions returns the logging.Options this configuration asks for:
// JSON in production, debug level with DEBUG, LOG_FILE rotation. Console
// and Level are left for the caller.
func (c *Config) LoggingOptions() logging.Options {
	return logging.Options{
		Format:     logging.FormatFor(c.AppEnv),
		Debug:      c.Debug,
		File:       c.Log.File,
		MaxSizeMB:  c.Log.MaxSizeMB,
		MaxBackups: c.Log.MaxBackups,
		MaxAgeDays: c.Log.MaxAgeDays,
	}
}
