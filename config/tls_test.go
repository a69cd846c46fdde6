package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/certs"
)

// targetByKind returns the default target of kind k.
func targetByKind(t *testing.T, c *Config, k probes.Kind) probes.Target {
	t.Helper()
	for _, tg := range c.DefaultTargets() {
		if tg.Kind == k {
			return tg
		}
	}
	t.Fatalf("no default %s target", k)
	return probes.Target{}
}

func TestLoadTLSVariables(t *testing.T) {
	cs := certs.New(t)
	env := map[string]string{
		"POSTGRES_SSLMODE": "verify-ca", "POSTGRES_SSLROOTCERT": cs.CA, "POSTGRES_SSLCERT": cs.ClientCert, "POSTGRES_SSLKEY": cs.ClientKey,
		"ELASTICSEARCH_HOSTS": "https://es:9200", "ELASTICSEARCH_TLS": "require", "ELASTICSEARCH_CA_CERT": cs.CA,
		"ELASTICSEARCH_CLIENT_CERT": cs.ClientCert, "ELASTICSEARCH_CLIENT_KEY": cs.ClientKey,
	}
	for _, p := range []string{"MILVUS", "REDIS", "RABBITMQ", "NACOS"} {
		env[p+"_TLS"], env[p+"_TLS_CA_CERT"], env[p+"_TLS_CERT"], env[p+"_TLS_KEY"] = "verify-full", cs.CA, cs.ClientCert, cs.ClientKey
	}
	c := mustLoad(t, env, nil)
	want := map[probes.Kind]probes.TLSMode{
		probes.Postgres: probes.TLSVerifyCA, probes.Elasticsearch: probes.TLSRequire, probes.Milvus: probes.TLSVerifyFull,
		probes.Redis: probes.TLSVerifyFull, probes.RabbitMQ: probes.TLSVerifyFull, probes.Nacos: probes.TLSVerifyFull,
	}
	for k, mode := range want {
		got := targetByKind(t, c, k).TLS
		if got != (probes.TLS{Mode: mode, CAFile: cs.CA, CertFile: cs.ClientCert, KeyFile: cs.ClientKey}) {
			t.Errorf("%s TLS = %+v, want mode %s and the three files", k, got, mode)
		}
	}

	// The redacted view shows modes and paths, never the files' content.
	b, err := json.Marshal(c.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	key, _ := os.ReadFile(cs.ClientKey)
	if strings.Contains(string(b), string(key[40:80])) || !strings.Contains(string(b), `"mode":"verify-ca"`) || !strings.Contains(string(b), cs.ClientKey) {
		t.Fatalf("redacted view: %s", b)
	}
	if r := c.Redacted(); r.Redis.TLS.Mode != "verify-full" || r.Postgres.TLS.CAFile != cs.CA {
		t.Fatalf("redacted kinds: redis %+v postgres %+v", r.Redis.TLS, r.Postgres.TLS)
	}
}

func TestLoadTLSDefaults(t *testing.T) {
	cs := certs.New(t)
	c := mustLoad(t, map[string]string{
		"ELASTICSEARCH_HOSTS": "https://es:9200", "REDIS_TLS": "true", "RABBITMQ_TLS_CA_CERT": filepath.Base(cs.CA),
	}, map[string]string{filepath.Base(cs.CA): mustRead(t, cs.CA)})
	for k, mode := range map[probes.Kind]probes.TLSMode{
		probes.Postgres: probes.TLSDefault, probes.Elasticsearch: probes.TLSVerifyFull, probes.Milvus: probes.TLSDefault,
		probes.Redis: probes.TLSVerifyFull, probes.RabbitMQ: probes.TLSVerifyFull,
	} {
		if got := targetByKind(t, c, k).TLS.Mode; got != mode {
			t.Errorf("%s mode = %q, want %q", k, got, mode)
		}
	}
	if ca := targetByKind(t, c, probes.RabbitMQ).TLS.CAFile; !filepath.IsAbs(ca) {
		t.Errorf("relative CA path not resolved: %q", ca)
	}
	if got := c.Redacted().Postgres.TLS.Mode; got != "disable" {
		t.Errorf("redacted default mode = %q, want disable", got)
	}
}

func TestLoadTLSErrors(t *testing.T) {
	cs := certs.New(t)
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"bad mode", map[string]string{"REDIS_TLS": "maybe"}, `REDIS_TLS: must be one of disable, require, verify-ca, verify-full, got "maybe"`},
		{"prefer refused", map[string]string{"POSTGRES_SSLMODE": "prefer"}, "POSTGRES_SSLMODE: prefer falls back to plain text"},
		{"missing CA", map[string]string{"RABBITMQ_TLS": "verify-full", "RABBITMQ_TLS_CA_CERT": missing}, "RABBITMQ_TLS_CA_CERT: " + missing + ": no such file"},
		{"CA not PEM", map[string]string{"POSTGRES_SSLMODE": "verify-ca", "POSTGRES_SSLROOTCERT": cs.ClientKey}, "POSTGRES_SSLROOTCERT: " + cs.ClientKey + ": no PEM certificate"},
		{"cert without key", map[string]string{"MILVUS_TLS": "require", "MILVUS_TLS_CERT": cs.ClientCert}, "MILVUS_TLS_KEY: required with cert_file"},
		{"key without cert", map[string]string{"ELASTICSEARCH_HOSTS": "https://es", "ELASTICSEARCH_CLIENT_KEY": cs.ClientKey}, "ELASTICSEARCH_CLIENT_CERT: required"},
		{"key does not match", map[string]string{"NACOS_TLS": "require", "NACOS_TLS_CERT": cs.ServerCert, "NACOS_TLS_KEY": cs.ClientKey}, "NACOS_TLS_KEY: " + cs.ClientKey + ": private key does not match"},
		{"es disable with https", map[string]string{"ELASTICSEARCH_HOSTS": "https://es", "ELASTICSEARCH_TLS": "disable"}, "ELASTICSEARCH_TLS: disable contradicts the https:// hosts"},
		{"es tls with http", map[string]string{"ELASTICSEARCH_TLS": "verify-ca"}, "ELASTICSEARCH_TLS: verify-ca applies to https:// hosts"},
		{"es CA with http", map[string]string{"ELASTICSEARCH_CA_CERT": cs.CA}, "ELASTICSEARCH_TLS: verify-full applies to https:// hosts"},
	}
	key := mustRead(t, cs.ClientKey)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadWith(t, tt.env, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), key[40:80]) {
				t.Fatalf("error quotes the key: %v", err)
			}
		})
	}
	// A disabled kind's files are not read.
	mustLoad(t, map[string]string{"REDIS_ENABLED": "false", "REDIS_TLS": "require", "REDIS_TLS_CA_CERT": missing}, nil)
}

func TestParseTargetsTLS(t *testing.T) {
	cs := certs.New(t)
	doc := func(tls string) []byte {
		return []byte("targets: [{name: r, type: redis, host: rd, tls: " + tls + "}]")
	}
	for in, want := range map[string]probes.TLS{
		"true":      {Mode: probes.TLSVerifyFull},
		"false":     {Mode: probes.TLSDisable},
		"require":   {Mode: probes.TLSRequire},
		"verify-ca": {Mode: probes.TLSVerifyCA},
		"{mode: verify-full, ca_file: " + cs.CA + ", cert_file: " + cs.ClientCert + ", key_file: " + cs.ClientKey + ", server_name: db.internal}": {
			Mode: probes.TLSVerifyFull, CAFile: cs.CA, CertFile: cs.ClientCert, KeyFile: cs.ClientKey, ServerName: "db.internal"},
		"{ca_file: " + cs.CA + "}": {Mode: probes.TLSVerifyFull, CAFile: cs.CA},
	} {
		got, err := ParseTargets(doc(in), testDefaults)
		if err != nil || len(got) != 1 || got[0].TLS != want {
			t.Errorf("tls: %s: got %+v, %v; want %+v", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"maybe":          `tls.mode: must be one of`,
		"{mode: prefer}": "tls.mode: prefer falls back",
		"{mode: require, cert_file: " + cs.ClientCert + "}": "tls.key_file: required with cert_file",
		"{mode: require, ca: x}":                            `tls: unknown key "ca"`,
		"{ca_file: /nonexistent/ca.pem}":                    "tls.ca_file: /nonexistent/ca.pem: no such file",
		"[1, 2]":                                            "tls: must be true, false, a mode",
	} {
		_, err := ParseTargets(doc(in), testDefaults)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("tls: %s: error %v, want %q", in, err, want)
		}
	}
	// Nacos accepts tls now; Elasticsearch with host + tls builds https.
	got, err := ParseTargets([]byte("targets: [{name: n, type: nacos, host: nc, tls: require}, {name: e, type: elasticsearch, host: es, tls: verify-ca}]"), testDefaults)
	if err != nil || got[0].TLS.Mode != probes.TLSRequire || got[1].Addresses[0] != "https://es:9200" || got[1].TLS.Mode != probes.TLSVerifyCA {
		t.Fatalf("nacos/es: %+v, %v", got, err)
	}
	if _, err := ParseTargets([]byte("targets: [{name: e, type: elasticsearch, hosts: [https://es], tls: false}]"), testDefaults); err == nil ||
		!strings.Contains(err.Error(), "disable contradicts") {
		t.Fatalf("es https with tls false: %v", err)
	}
}
