package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/config/secret"
)

// canaries are distinct secret values, one per place a secret can be set.
var canaries = map[string]string{
	"POSTGRES_PASSWORD":      "canary-pg-pass",
	"ELASTICSEARCH_PASSWORD": "canary-es-pass",
	"MILVUS_PASSWORD":        "canary-milvus-pass",
	"REDIS_PASSWORD":         "canary-redis-pass",
	"RABBITMQ_PASSWORD":      "canary-amqp-pass",
	"NACOS_PASSWORD":         "canary-nacos-pass",
	"API_TOKEN":              "canary-api-token",
	"BUS_URL":                "amqp://user:canary-bus-pass@127.0.0.1:5672/",
	"STORE_URL":              "redis://:canary-store-pass@127.0.0.1:6379/0",
}

// fileCanaries are the passwords of testdata/targets.yaml.
var fileCanaries = []string{"pg-file-secret", "es-file-secret", "redis-file-secret", "amqp-file-secret"}

// canaryConfig loads a configuration with every secret set to a canary.
func canaryConfig(t *testing.T) *Config {
	t.Helper()
	environ := map[string]string{"TARGETS_FILE": "targets.yaml", "APP_ENV": "production"}
	for k, v := range canaries {
		environ[k] = v
	}
	example := mustRead(t, "testdata/targets.yaml")
	return mustLoad(t, environ, map[string]string{"targets.yaml": example})
}

func TestRedactedHidesEverySecret(t *testing.T) {
	c := canaryConfig(t)
	r := c.Redacted()
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	slog.New(slog.NewJSONHandler(&logBuf, nil)).Info("config", "config", r, "raw", c)
	outputs := map[string]string{
		"json":         string(js),
		"%+v redacted": fmt.Sprintf("%+v", r),
		"%+v config":   fmt.Sprintf("%+v", c),
		"%#v config":   fmt.Sprintf("%#v", *c),
		"%v targets":   fmt.Sprintf("%v %+v", c.Targets(), c.Targets()),
		"slog":         logBuf.String(),
	}
	secrets := append([]string{"canary-bus-pass", "canary-store-pass"}, fileCanaries...)
	for _, v := range canaries {
		secrets = append(secrets, v)
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s output contains secret %q", name, s)
			}
		}
	}
	masked := map[string]string{
		"postgres": r.Postgres.Password, "elasticsearch": r.Elasticsearch.Password, "milvus": r.Milvus.Password,
		"redis": r.Redis.Password, "rabbitmq": r.RabbitMQ.Password, "nacos": r.Nacos.Password,
		"api_token": r.Service.APIToken, "bus": r.Bus.URL, "store": r.Store.URL,
	}
	for name, v := range masked {
		if v != secret.Mask {
			t.Errorf("%s shows %q, want %q", name, v, secret.Mask)
		}
	}
	if r.AppEnv != "production" || r.Bus.Embedded || r.Store.Embedded {
		t.Errorf("app_env %q bus embedded %v store embedded %v", r.AppEnv, r.Bus.Embedded, r.Store.Embedded)
	}
	if len(r.Targets) != 12 {
		t.Fatalf("%d targets, want 12", len(r.Targets))
	}
	for _, tg := range r.Targets {
		if !tg.PasswordSet && tg.Type != "milvus" && tg.Type != "nacos" {
			t.Errorf("%s/%s: password_set false", tg.Type, tg.Name)
		}
	}
	if r.Targets[0].Source != "variables POSTGRES_*" || r.Targets[6].Source != SourceTargetsFile {
		t.Errorf("target sources %q %q", r.Targets[0].Source, r.Targets[6].Source)
	}
	if r.Sources["POSTGRES_PASSWORD"] != SourceEnvironment || r.Sources["targets/redis/cache"] != SourceTargetsFile {
		t.Errorf("sources: %v", r.Sources)
	}
}

func TestRedactedUnsetSecretsAreEmpty(t *testing.T) {
	r := mustLoad(t, nil, nil).Redacted()
	if r.Redis.Password != "" || r.Service.APIToken != "" || r.Bus.URL != "" || !r.Bus.Embedded || !r.Store.Embedded {
		t.Errorf("unset secrets: redis %q token %q bus %+v store %+v", r.Redis.Password, r.Service.APIToken, r.Bus, r.Store)
	}
	if r.Postgres.Password != secret.Mask {
		t.Errorf("default postgres password shows %q", r.Postgres.Password)
	}
}

// TestRedactedKeys pins the JSON shape: snake_case keys, stable names.
func TestRedactedKeys(t *testing.T) {
	js, err := json.Marshal(canaryConfig(t).Redacted())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatal(err)
	}
	top := sortedKeys(m)
	want := []string{"alerts", "app_env", "bus", "debug", "elasticsearch", "files", "history", "log", "milvus", "nacos",
		"postgres", "probe", "rabbitmq", "redis", "registry", "service", "sources", "store", "targets"}
	if !reflect.DeepEqual(top, want) {
		t.Errorf("top-level keys %v\nwant %v", top, want)
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if path != "sources" && !snake.MatchString(k) {
					t.Errorf("key %s.%s is not snake_case", path, k)
				}
				walk(k, x)
			}
		case []any:
			for _, x := range v {
				walk(path, x)
			}
		}
	}
	walk("", m)
	target := m["targets"].([]any)[0].(map[string]any)
	keys := sortedKeys(target)
	sort.Strings(keys)
	for _, k := range keys {
		if strings.Contains(k, "password") && k != "password_set" {
			t.Errorf("target has key %q", k)
		}
	}
}

// mustRead reads a file relative to the package directory.
func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRedactedHoldsNoSecret walks the redacted view: no field holds a
// secret, even to a caller that reveals a secret.String.
func TestRedactedHoldsNoSecret(t *testing.T) {
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch {
		case v.Type() == reflect.TypeFor[secret.String]():
			if s := v.Interface().(secret.String).Reveal(); s != secret.Mask && s != "" {
				t.Errorf("%s holds a secret", path)
			}
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		}
	}
	walk("RedactedConfig", reflect.ValueOf(canaryConfig(t).Redacted()))
}
