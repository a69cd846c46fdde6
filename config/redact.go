package config

import (
	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/probes"
)

// RedactedConfig is the effective configuration as shown by -check-config
// and GET /api/database/config: every secret is secret.Mask ("******") when
// set and "" when not, durations are Go duration strings ("30s"), keys are
// snake_case and stable.
type RedactedConfig struct {
	AppEnv        string                `json:"app_env"`
	Debug         bool                  `json:"debug"`
	Service       RedactedService       `json:"service"`
	Postgres      RedactedPostgres      `json:"postgres"`
	Elasticsearch RedactedElasticsearch `json:"elasticsearch"`
	Milvus        RedactedMilvus        `json:"milvus"`
	Redis         RedactedRedis         `json:"redis"`
	RabbitMQ      RedactedRabbitMQ      `json:"rabbitmq"`
	Nacos         RedactedNacos         `json:"nacos"`
	Registry      RedactedRegistry      `json:"registry"`
	Probe         RedactedProbe         `json:"probe"`
	Log           RedactedLog           `json:"log"`
	Bus           RedactedBus           `json:"bus"`
	Store         RedactedStore         `json:"store"`
	History       RedactedHistory       `json:"history"`
	Alerts        RedactedAlerts        `json:"alerts"`
	// Targets are all targets (defaults and TARGETS_FILE), without passwords.
	Targets []RedactedTarget `json:"targets"`
	// Sources maps each variable (and "targets/<kind>/<name>") to where its
	// value came from; see Config.Sources.
	Sources map[string]string `json:"sources"`
	// Files are the env files that were read, in the order applied.
	Files []string `json:"files"`
}

// RedactedService is ServiceConfig for display.
type RedactedService struct {
	Name            string `json:"name"`
	Port            int    `json:"port"`
	IP              string `json:"ip"`
	ReplicaID       string `json:"replica_id"`
	DataDir         string `json:"data_dir"`
	ShutdownTimeout string `json:"shutdown_timeout"`
	APIToken        string `json:"api_token"`
}

// RedactedPostgres is PostgresConfig for display.
type RedactedPostgres struct {
	Enabled  bool        `json:"enabled"`
	Host     string      `json:"host"`
	Port     int         `json:"port"`
	User     string      `json:"user"`
	Password string      `json:"password"`
	DB       string      `json:"db"`
	TLS      RedactedTLS `json:"tls"`
}

// RedactedElasticsearch is ElasticsearchConfig for display.
type RedactedElasticsearch struct {
	Enabled  bool        `json:"enabled"`
	Hosts    []string    `json:"hosts"`
	Username string      `json:"username"`
	Password string      `json:"password"`
	TLS      RedactedTLS `json:"tls"`
}

// RedactedMilvus is MilvusConfig for display.
type RedactedMilvus struct {
	Enabled  bool        `json:"enabled"`
	Host     string      `json:"host"`
	Port     int         `json:"port"`
	Username string      `json:"username"`
	Password string      `json:"password"`
	TLS      RedactedTLS `json:"tls"`
}

// RedactedRedis is RedisConfig for display.
type RedactedRedis struct {
	Enabled  bool        `json:"enabled"`
	Host     string      `json:"host"`
	Port     int         `json:"port"`
	Password string      `json:"password"`
	DB       int         `json:"db"`
	TLS      RedactedTLS `json:"tls"`
}

// RedactedRabbitMQ is RabbitMQConfig for display.
type RedactedRabbitMQ struct {
	Enabled       bool        `json:"enabled"`
	Host          string      `json:"host"`
	Port          int         `json:"port"`
	Username      string      `json:"username"`
	Password      string      `json:"password"`
	VHost         string      `json:"vhost"`
	ManagementURL string      `json:"management_url"`
	TLS           RedactedTLS `json:"tls"`
}

// RedactedNacos is NacosConfig for display.
type RedactedNacos struct {
	Enabled      bool        `json:"enabled"`
	Servers      []string    `json:"servers"`
	Namespace    string      `json:"namespace"`
	Group        string      `json:"group"`
	Username     string      `json:"username"`
	Password     string      `json:"password"`
	ConfigDataID string      `json:"config_data_id"`
	TLS          RedactedTLS `json:"tls"`
}

// RedactedRegistry is RegistryConfig for display.
type RedactedRegistry struct {
	Enabled bool `json:"enabled"`
}

// RedactedProbe is ProbeConfig for display.
type RedactedProbe struct {
	Interval         string `json:"interval"`
	Timeout          string `json:"timeout"`
	Concurrency      int    `json:"concurrency"`
	RetryInterval    string `json:"retry_interval"`
	RecoveryBackoff  bool   `json:"recovery_backoff"`
	FailureThreshold int    `json:"failure_threshold"`
	SuccessThreshold int    `json:"success_threshold"`
	TargetsFile      string `json:"targets_file"`
}

// RedactedLog is LogConfig for display.
type RedactedLog struct {
	File       string `json:"file"`
	MaxSizeMB  int    `json:"max_size_mb"`
	MaxBackups int    `json:"max_backups"`
	MaxAgeDays int    `json:"max_age_days"`
}

// RedactedBus is BusConfig for display: the URL is a secret, so only
// whether it is set (embedded or not) shows.
type RedactedBus struct {
	URL      string `json:"url"`
	Embedded bool   `json:"embedded"`
	Exchange string `json:"exchange"`
}

// RedactedStore is StoreConfig for display: the URL is a secret, so only
// whether it is set (embedded or not) shows.
type RedactedStore struct {
	URL             string `json:"url"`
	Embedded        bool   `json:"embedded"`
	KeyPrefix       string `json:"key_prefix"`
	OutboxClaimIdle string `json:"outbox_claim_idle"`
}

// RedactedHistory is HistoryConfig for display.
type RedactedHistory struct {
	MaxEntries int    `json:"max_entries"`
	Retention  string `json:"retention"`
}

// RedactedAlerts is AlertsConfig for display.
type RedactedAlerts struct {
	Retention string `json:"retention"`
}

// RedactedTarget is a probes.Target for display: no password field at all,
// only whether one is set.
type RedactedTarget struct {
	Type             string         `json:"type"`
	Name             string         `json:"name"`
	Host             string         `json:"host"`
	Port             int            `json:"port"`
	Addresses        []string       `json:"addresses,omitempty"`
	Username         string         `json:"username,omitempty"`
	PasswordSet      bool           `json:"password_set"`
	Database         string         `json:"database,omitempty"`
	DB               int            `json:"db"`
	VHost            string         `json:"vhost,omitempty"`
	ManagementURL    string         `json:"management_url,omitempty"`
	Namespace        string         `json:"namespace,omitempty"`
	Group            string         `json:"group,omitempty"`
	TLS              RedactedTLS    `json:"tls"`
	Interval         string         `json:"interval"`
	Timeout          string         `json:"timeout"`
	FailureThreshold int            `json:"failure_threshold"`
	SuccessThreshold int            `json:"success_threshold"`
	Degraded         RedactedLimits `json:"degraded"`
	Source           string         `json:"source"`
}

// RedactedLimits is probes.Limits for display.
type RedactedLimits struct {
	ConnRatio   float64 `json:"conn_ratio"`
	MemoryRatio float64 `json:"memory_ratio"`
	ReplicaLag  string  `json:"replica_lag"`
}

// mask shows a secret as secret.Mask when set, "" otherwise.
func mask(s secret.String) string { return s.String() }

// Redacted returns the effective configuration with every secret masked;
// it is safe to log, print and serve.
func (c *Config) Redacted() RedactedConfig {
	r := RedactedConfig{
		AppEnv: c.AppEnv,
		Debug:  c.Debug,
		Service: RedactedService{
			Name: c.Service.Name, Port: c.Service.Port, IP: c.Service.IP,
			ReplicaID: c.Service.ReplicaID, DataDir: c.Service.DataDir,
			ShutdownTimeout: c.Service.ShutdownTimeout.String(), APIToken: mask(c.Service.APIToken),
		},
		Postgres: RedactedPostgres{
			Enabled: c.Postgres.Enabled, Host: c.Postgres.Host, Port: c.Postgres.Port,
			User: c.Postgres.User, Password: mask(c.Postgres.Password), DB: c.Postgres.DB,
			TLS: redactTLS(c.envTLS(probes.Postgres)),
		},
		Elasticsearch: RedactedElasticsearch{
			Enabled: c.Elasticsearch.Enabled, Hosts: maskAll(c.Elasticsearch.Hosts),
			Username: c.Elasticsearch.Username, Password: mask(c.Elasticsearch.Password),
			TLS: redactTLS(esTLS(c.envTLS(probes.Elasticsearch), c.Elasticsearch.Hosts)),
		},
		Milvus: RedactedMilvus{
			Enabled: c.Milvus.Enabled, Host: c.Milvus.Host, Port: c.Milvus.Port,
			Username: c.Milvus.Username, Password: mask(c.Milvus.Password),
			TLS: redactTLS(c.envTLS(probes.Milvus)),
		},
		Redis: RedactedRedis{
			Enabled: c.Redis.Enabled, Host: c.Redis.Host, Port: c.Redis.Port,
			Password: mask(c.Redis.Password), DB: c.Redis.DB,
			TLS: redactTLS(c.envTLS(probes.Redis)),
		},
		RabbitMQ: RedactedRabbitMQ{
			Enabled: c.RabbitMQ.Enabled, Host: c.RabbitMQ.Host, Port: c.RabbitMQ.Port,
			Username: c.RabbitMQ.Username, Password: mask(c.RabbitMQ.Password),
			VHost: c.RabbitMQ.VHost, ManagementURL: maskURLCredentials(c.RabbitMQ.ManagementURL),
			TLS: redactTLS(c.envTLS(probes.RabbitMQ)),
		},
		Nacos: RedactedNacos{
			Enabled: c.Nacos.Enabled, Servers: maskAll(c.Nacos.Servers), Namespace: c.Nacos.Namespace,
			Group: c.Nacos.Group, Username: c.Nacos.Username, Password: mask(c.Nacos.Password),
			ConfigDataID: c.Nacos.ConfigDataID,
			TLS:          redactTLS(c.envTLS(probes.Nacos)),
		},
		Registry: RedactedRegistry{Enabled: c.Registry.Enabled},
		Probe: RedactedProbe{
			Interval: c.Probe.Interval.String(), Timeout: c.Probe.Timeout.String(),
			Concurrency: c.Probe.Concurrency, RetryInterval: c.Probe.RetryInterval.String(), RecoveryBackoff: c.Probe.RecoveryBackoff,
			FailureThreshold: c.Probe.FailureThreshold, SuccessThreshold: c.Probe.SuccessThreshold,
			TargetsFile: c.Probe.TargetsFile,
		},
		Log: RedactedLog{
			File: c.Log.File, MaxSizeMB: c.Log.MaxSizeMB, MaxBackups: c.Log.MaxBackups, MaxAgeDays: c.Log.MaxAgeDays,
		},
		Bus: RedactedBus{URL: mask(c.Bus.URL), Embedded: c.Bus.Embedded(), Exchange: c.Bus.Exchange},
		Store: RedactedStore{
			URL: mask(c.Store.URL), Embedded: c.Store.Embedded(), KeyPrefix: c.Store.KeyPrefix,
			OutboxClaimIdle: c.Store.OutboxClaimIdle.String(),
		},
		History: RedactedHistory{MaxEntries: c.History.MaxEntries, Retention: c.History.Retention.String()},
		Alerts:  RedactedAlerts{Retention: c.Alerts.Retention.String()},
		Targets: []RedactedTarget{},
		Sources: c.Sources(),
		Files:   c.Files(),
	}
	if r.Files == nil {
		r.Files = []string{}
	}
	for _, t := range c.Targets() {
		src := defaultSource(t.Kind)
		if s, ok := c.state().sources["targets/"+t.ID()]; ok {
			src = s
		}
		r.Targets = append(r.Targets, RedactTarget(t, src))
	}
	return r
}

// RedactTarget shows t without its password; source says where it was
// defined ("targets file", "variables POSTGRES_*", "nacos", ...).
func RedactTarget(t probes.Target, source string) RedactedTarget {
	return RedactedTarget{
		Type: string(t.Kind), Name: t.Name, Host: t.Host, Port: t.Port,
		Addresses: maskAll(t.Addresses), Username: t.Username, PasswordSet: t.Password.IsSet(),
		Database: t.Database, DB: t.DB, VHost: t.VHost, ManagementURL: maskURLCredentials(t.ManagementURL),
		Namespace: t.Namespace, Group: t.Group, TLS: redactTLS(t.TLS),
		Interval: t.Interval.String(), Timeout: t.Timeout.String(),
		FailureThreshold: t.FailureThreshold, SuccessThreshold: t.SuccessThreshold,
		Degraded: RedactedLimits{
			ConnRatio: t.Limits.ConnRatio, MemoryRatio: t.Limits.MemoryRatio, ReplicaLag: t.Limits.ReplicaLag.String(),
		},
		Source: source,
	}
}

// maskAll masks URL credentials in every entry (defence in depth: Load
// already rejects credentials in these lists).
func maskAll(in []string) []string {
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = maskURLCredentials(s)
	}
	return out
}

// Secrets lists every credential of the configuration (passwords, the API
// token, the bus and store URLs, the targets' passwords), for scrubbing
// messages that might echo one back.
func (c *Config) Secrets() []secret.String {
	out := []secret.String{
		c.Service.APIToken, c.Postgres.Password, c.Elasticsearch.Password, c.Milvus.Password,
		c.Redis.Password, c.RabbitMQ.Password, c.Nacos.Password, c.Bus.URL, c.Store.URL,
	}
	for _, t := range c.Targets() {
		out = append(out, t.Password)
	}
	return out
}
