package config

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dbhealth/database-service/probes"
)

// defaultPorts is each kind's usual port, used when a target gives none.
var defaultPorts = map[probes.Kind]int{
	probes.Postgres:      5432,
	probes.Elasticsearch: 9200,
	probes.Milvus:        19530,
	probes.Redis:         6379,
	probes.Nacos:         8848,
	probes.RabbitMQ:      5672,
}

// Defaults are the schedule and thresholds a target gets unless it sets its
// own. The TARGETS_FILE's `defaults:` section overrides them for the file.
type Defaults struct {
	Interval         time.Duration
	Timeout          time.Duration
	FailureThreshold int
	SuccessThreshold int
	// Limits are the DEGRADED thresholds; zero fields mean the probes
	// package's defaults.
	Limits probes.Limits
}

// Defaults returns the global defaults: PROBE_INTERVAL, PROBE_TIMEOUT,
// FAILURE_THRESHOLD, SUCCESS_THRESHOLD and the probes package's limits.
func (c *Config) Defaults() Defaults {
	return Defaults{
		Interval:         c.Probe.Interval,
		Timeout:          c.Probe.Timeout,
		FailureThreshold: c.Probe.FailureThreshold,
		SuccessThreshold: c.Probe.SuccessThreshold,
		Limits:           probes.Limits{}.WithDefaults(),
	}
}

// apply sets d's schedule and thresholds on t.
func (d Defaults) apply(t *probes.Target) {
	t.Interval = d.Interval
	t.Timeout = d.Timeout
	t.FailureThreshold = d.FailureThreshold
	t.SuccessThreshold = d.SuccessThreshold
	t.Limits = d.Limits.WithDefaults()
}

// DefaultTargets returns the target of every enabled kind defined by the
// environment variables, named after its kind ("postgres", ...), in
// probes.Kinds order, with the global defaults applied.
//
// Elasticsearch targets carry every URL of ELASTICSEARCH_HOSTS in Addresses
// (Host/Port are those of the first; with no ELASTICSEARCH_TLS, https://
// URLs mean verify-full). Nacos
// targets carry every "host:port" of NACOS_SERVERS in Addresses.
func (c *Config) DefaultTargets() []probes.Target {
	d := c.Defaults()
	var out []probes.Target
	add := func(enabled bool, t probes.Target) {
		if !enabled {
			return
		}
		t.Name = string(t.Kind)
		d.apply(&t)
		out = append(out, t)
	}
	add(c.Postgres.Enabled, probes.Target{
		Kind: probes.Postgres, Host: c.Postgres.Host, Port: c.Postgres.Port,
		Username: c.Postgres.User, Password: c.Postgres.Password, Database: c.Postgres.DB,
		TLS: c.envTLS(probes.Postgres),
	})
	es := probes.Target{
		Kind: probes.Elasticsearch, Addresses: append([]string(nil), c.Elasticsearch.Hosts...),
		Username: c.Elasticsearch.Username, Password: c.Elasticsearch.Password,
	}
	if len(es.Addresses) > 0 {
		es.Host, es.Port = urlHostPort(es.Addresses[0])
	}
	es.TLS = esTLS(c.envTLS(probes.Elasticsearch), es.Addresses)
	add(c.Elasticsearch.Enabled, es)
	add(c.Milvus.Enabled, probes.Target{
		Kind: probes.Milvus, Host: c.Milvus.Host, Port: c.Milvus.Port,
		Username: c.Milvus.Username, Password: c.Milvus.Password,
		TLS: c.envTLS(probes.Milvus),
	})
	add(c.Redis.Enabled, probes.Target{
		Kind: probes.Redis, Host: c.Redis.Host, Port: c.Redis.Port,
		Password: c.Redis.Password, DB: c.Redis.DB,
		TLS: c.envTLS(probes.Redis),
	})
	nacos := probes.Target{
		Kind: probes.Nacos, Addresses: append([]string(nil), c.Nacos.Servers...),
		Username: c.Nacos.Username, Password: c.Nacos.Password,
		Namespace: c.Nacos.Namespace, Group: c.Nacos.Group,
		TLS: c.envTLS(probes.Nacos),
	}
	if len(nacos.Addresses) > 0 {
		nacos.Host, nacos.Port = splitHostPort(nacos.Addresses[0])
	}
	add(c.Nacos.Enabled, nacos)
	add(c.RabbitMQ.Enabled, probes.Target{
		Kind: probes.RabbitMQ, Host: c.RabbitMQ.Host, Port: c.RabbitMQ.Port,
		Username: c.RabbitMQ.Username, Password: c.RabbitMQ.Password,
		VHost: c.RabbitMQ.VHost, ManagementURL: c.RabbitMQ.ManagementURL,
		TLS: c.envTLS(probes.RabbitMQ),
	})
	return out
}

// Targets returns every target to watch: DefaultTargets followed by the
// TARGETS_FILE targets in file order. The slice is a fresh copy.
func (c *Config) Targets() []probes.Target {
	return append(c.DefaultTargets(), c.FileTargets()...)
}

// ResolveTargets parses a targets document (the TARGETS_FILE format, from
// the file or from Nacos) with c's Defaults and returns the full target set
// as Targets would with that document in force. It fails if the document is
// invalid or reuses the name of an enabled default target. c is not
// modified.
func (c *Config) ResolveTargets(data []byte) ([]probes.Target, error) {
	extra, err := c.DocTargets(data)
	if err != nil {
		return nil, err
	}
	return append(c.DefaultTargets(), extra...), nil
}

// checkClashes rejects extra targets named like an enabled default target.
func (c *Config) checkClashes(extra []probes.Target) error {
	taken := map[string]bool{}
	for _, t := range c.DefaultTargets() {
		taken[t.ID()] = true
	}
	var errs []error
	for i, t := range extra {
		if taken[t.ID()] {
			errs = append(errs, fmt.Errorf("%w: targets[%d] (%s): name %q is taken by the default %s target; rename it or set %s_ENABLED=false",
				ErrInvalid, i, t.ID(), t.Name, t.Kind, kindVarPrefix(t.Kind)))
		}
	}
	return joinErrs(errs)
}

// kindVarPrefix is the variable prefix of a kind: POSTGRES, ELASTICSEARCH...
func kindVarPrefix(k probes.Kind) string { return strings.ToUpper(string(k)) }

// cloneTarget copies t so callers cannot alias the Config's slices.
func cloneTarget(t probes.Target) probes.Target {
	t.Addresses = append([]string(nil), t.Addresses...)
	return t
}

// urlHostPort returns the host and port (the scheme's default when absent)
// of an http(s) URL; zero values when it does not parse.
func urlHostPort(raw string) (string, int) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", 0
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		port = 80
		if u.Scheme == "https" {
			port = 443
		}
	}
	return u.Hostname(), port
}

// splitHostPort splits "host:port"; zero values when it does not parse.
func splitHostPort(hp string) (string, int) {
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0
	}
	n, _ := strconv.Atoi(p)
	return h, n
}
