package config

import (
	"reflect"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/probes"
)

// RedactedConfig is the effective configuration as shown by -check-config
// and GET /api/database/config: every secret is secret.Mask ("******") when
// set and "" when not, durations are Go duration strings ("30s"), keys are
// snake_case and stable.
//
// Each section is the Config's own section (its json tags name the keys,
// `json:"-"` hides what is shown otherwise, a secret.String shows itself
// masked), with its copy's secrets replaced by their mask; only what is
// shown differently is declared again: durations as strings, secrets as
// masked strings, the TLS variables as one tls object, URLs with any
// credentials masked, and what is computed (embedded, targets, sources).
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
	Registry      RegistryConfig        `json:"registry"`
	Probe         RedactedProbe         `json:"probe"`
	Log           LogConfig             `json:"log"`
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

// The sections of RedactedConfig. In each, a field declared again shadows
// the embedded section's field of the same name and JSON key. Passwords,
// the API token and the bus and store URLs are secret.Mask when set, ""
// when not.
type (
	// RedactedService is ServiceConfig as shown (API_AUTH and
	// METRICS_PUBLIC are not).
	RedactedService struct {
		ServiceConfig
		ShutdownTimeout string `json:"shutdown_timeout"`
		APIToken        string `json:"api_token"`
	}
	// RedactedPostgres is PostgresConfig as shown.
	RedactedPostgres struct {
		PostgresConfig
		Password string      `json:"password"`
		TLS      RedactedTLS `json:"tls"`
	}
	// RedactedElasticsearch is ElasticsearchConfig as shown.
	RedactedElasticsearch struct {
		ElasticsearchConfig
		Hosts    []string    `json:"hosts"`
		Password string      `json:"password"`
		TLS      RedactedTLS `json:"tls"`
	}
	// RedactedMilvus is MilvusConfig as shown.
	RedactedMilvus struct {
		MilvusConfig
		Password string      `json:"password"`
		TLS      RedactedTLS `json:"tls"`
	}
	// RedactedRedis is RedisConfig as shown.
	RedactedRedis struct {
		RedisConfig
		Password string      `json:"password"`
		TLS      RedactedTLS `json:"tls"`
	}
	// RedactedRabbitMQ is RabbitMQConfig as shown.
	RedactedRabbitMQ struct {
		RabbitMQConfig
		Password      string      `json:"password"`
		ManagementURL string      `json:"management_url"`
		TLS           RedactedTLS `json:"tls"`
	}
	// RedactedNacos is NacosConfig as shown.
	RedactedNacos struct {
		NacosConfig
		Servers  []string    `json:"servers"`
		Password string      `json:"password"`
		TLS      RedactedTLS `json:"tls"`
	}
	// RedactedProbe is ProbeConfig as shown.
	RedactedProbe struct {
		ProbeConfig
		Interval      string `json:"interval"`
		Timeout       string `json:"timeout"`
		RetryInterval string `json:"retry_interval"`
	}
	// RedactedBus is BusConfig as shown: the URL is a secret, so only
	// whether it is set (embedded or not) shows.
	RedactedBus struct {
		BusConfig
		URL      string `json:"url"`
		Embedded bool   `json:"embedded"`
	}
	// RedactedStore is StoreConfig as shown: the URL is a secret, so only
	// whether it is set (embedded or not) shows (OUTBOX_MAX_LENGTH is not).
	RedactedStore struct {
		StoreConfig
		URL             string `json:"url"`
		Embedded        bool   `json:"embedded"`
		OutboxClaimIdle string `json:"outbox_claim_idle"`
	}
	// RedactedHistory is HistoryConfig as shown.
	RedactedHistory struct {
		HistoryConfig
		Retention string `json:"retention"`
	}
	// RedactedAlerts is AlertsConfig as shown.
	RedactedAlerts struct {
		AlertsConfig
		Retention string `json:"retention"`
	}
)

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

// Redacted returns the effective configuration with every secret masked;
// it is safe to log, print and serve.
func (c *Config) Redacted() RedactedConfig {
	r := RedactedConfig{
		AppEnv: c.AppEnv, Debug: c.Debug,
		Service: RedactedService{ServiceConfig: masked(c.Service),
			ShutdownTimeout: c.Service.ShutdownTimeout.String(), APIToken: c.Service.APIToken.String()},
		Registry: masked(c.Registry),
		Probe: RedactedProbe{ProbeConfig: masked(c.Probe), Interval: c.Probe.Interval.String(),
			Timeout: c.Probe.Timeout.String(), RetryInterval: c.Probe.RetryInterval.String()},
		Log: masked(c.Log),
		Bus: RedactedBus{BusConfig: masked(c.Bus), URL: c.Bus.URL.String(), Embedded: c.Bus.Embedded()},
		Store: RedactedStore{StoreConfig: masked(c.Store), URL: c.Store.URL.String(), Embedded: c.Store.Embedded(),
			OutboxClaimIdle: c.Store.OutboxClaimIdle.String()},
		History: RedactedHistory{HistoryConfig: masked(c.History), Retention: c.History.Retention.String()},
		Alerts:  RedactedAlerts{AlertsConfig: masked(c.Alerts), Retention: c.Alerts.Retention.String()},
		Targets: []RedactedTarget{},
		Sources: c.Sources(),
		Files:   c.Files(),
	}
	c.redactKinds(&r)
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

// redactKinds fills r's sections of the default targets' variables.
func (c *Config) redactKinds(r *RedactedConfig) {
	pg, es, mv, rd, mq, nc := &c.Postgres, &c.Elasticsearch, &c.Milvus, &c.Redis, &c.RabbitMQ, &c.Nacos
	r.Postgres = RedactedPostgres{PostgresConfig: masked(*pg), Password: pg.Password.String(),
		TLS: redactTLS(c.envTLS(probes.Postgres))}
	r.Elasticsearch = RedactedElasticsearch{ElasticsearchConfig: masked(*es), Hosts: maskAll(es.Hosts),
		Password: es.Password.String(), TLS: redactTLS(esTLS(c.envTLS(probes.Elasticsearch), es.Hosts))}
	r.Milvus = RedactedMilvus{MilvusConfig: masked(*mv), Password: mv.Password.String(),
		TLS: redactTLS(c.envTLS(probes.Milvus))}
	r.Redis = RedactedRedis{RedisConfig: masked(*rd), Password: rd.Password.String(),
		TLS: redactTLS(c.envTLS(probes.Redis))}
	r.RabbitMQ = RedactedRabbitMQ{RabbitMQConfig: masked(*mq), Password: mq.Password.String(),
		ManagementURL: maskURLCredentials(mq.ManagementURL), TLS: redactTLS(c.envTLS(probes.RabbitMQ))}
	r.Nacos = RedactedNacos{NacosConfig: masked(*nc), Servers: maskAll(nc.Servers), Password: nc.Password.String(),
		TLS: redactTLS(c.envTLS(probes.Nacos))}
}

// masked returns a copy of the section v with every secret.String field
// replaced by what it shows (secret.Mask or ""), so a redacted view holds
// no secret even for a caller that calls Reveal.
func masked[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	for i := range rv.NumField() {
		if f := rv.Field(i); f.Type() == reflect.TypeFor[secret.String]() && f.CanSet() {
			f.Set(reflect.ValueOf(secret.String(f.Interface().(secret.String).String())))
		}
	}
	return v
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
	out = append(out, c.Alerts.Delivery.Secrets()...)
	for _, r := range c.FileAlerting().Receivers {
		out = append(out, ReceiverSecrets(r)...)
	}
	return out
}
