package config

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/caarlos0/env/v11"

	"github.com/dbhealth/database-service/probes"
)

// TestEnvDefaultsAgree holds the envDefault tags of Config to the Go
// definitions of the same defaults, so each is written once in effect.
func TestEnvDefaultsAgree(t *testing.T) {
	port := func(k probes.Kind) string { return strconv.Itoa(defaultPorts[k]) }
	want := map[string]string{
		"PROBE_INTERVAL":      DefaultProbeInterval.String(),
		"PROBE_TIMEOUT":       DefaultProbeTimeout.String(),
		"FAILURE_THRESHOLD":   strconv.Itoa(DefaultFailureThreshold),
		"SUCCESS_THRESHOLD":   strconv.Itoa(DefaultSuccessThreshold),
		"POSTGRES_USER":       DefaultPostgresUser,
		"RABBITMQ_VHOST":      DefaultRabbitMQVHost,
		"NACOS_NAMESPACE":     DefaultNacosNamespace,
		"NACOS_GROUP":         DefaultNacosGroup,
		"POSTGRES_PORT":       port(probes.Postgres),
		"MILVUS_PORT":         port(probes.Milvus),
		"REDIS_PORT":          port(probes.Redis),
		"RABBITMQ_PORT":       port(probes.RabbitMQ),
		"ELASTICSEARCH_HOSTS": "http://localhost:" + port(probes.Elasticsearch),
		"NACOS_SERVERS":       "localhost:" + port(probes.Nacos),
	}
	params, err := env.GetFieldParams(&Config{})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range params {
		if w, ok := want[p.Key]; ok {
			if p.DefaultValue != w {
				t.Errorf("%s: envDefault %q, want %q", p.Key, p.DefaultValue, w)
			}
			delete(want, p.Key)
		}
	}
	for k := range want {
		t.Errorf("%s: no such variable", k)
	}
	c := mustLoad(t, nil, nil)
	if d := c.Defaults(); d.Interval != DefaultProbeInterval || d.Timeout != DefaultProbeTimeout ||
		d.FailureThreshold != DefaultFailureThreshold || d.SuccessThreshold != DefaultSuccessThreshold {
		t.Errorf("loaded defaults %+v", d)
	}
}

// TestREADMEDefaults holds the README's variable table to the defaults.
func TestREADMEDefaults(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Skip("no README:", err)
	}
	rows := []string{
		"| `PROBE_INTERVAL` / `PROBE_TIMEOUT` | `" + DefaultProbeInterval.String() + "` / `" + DefaultProbeTimeout.String() + "` |",
		"| `FAILURE_THRESHOLD` / `SUCCESS_THRESHOLD` | `" + strconv.Itoa(DefaultFailureThreshold) + "` / `" + strconv.Itoa(DefaultSuccessThreshold) + "` |",
	}
	for _, r := range rows {
		if !strings.Contains(string(b), r) {
			t.Errorf("README has no row %q", r)
		}
	}
}
