package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidationErrors(t *testing.T) {
	const pw = "hunter2-canary"
	tests := []struct {
		name    string
		environ map[string]string
		want    []string // error lines, exactly
	}{
		{"port not a number", map[string]string{"DB_SERVICE_PORT": "abc"}, []string{`DB_SERVICE_PORT: must be 1-65535, got "abc"`}},
		{"port too big", map[string]string{"POSTGRES_PORT": "70000"}, []string{`POSTGRES_PORT: must be 1-65535, got "70000"`}},
		{"port zero", map[string]string{"MILVUS_PORT": "0"}, []string{`MILVUS_PORT: must be 1-65535, got "0"`}},
		{"port negative", map[string]string{"REDIS_PORT": "-1"}, []string{`REDIS_PORT: must be 1-65535, got "-1"`}},
		{"port float", map[string]string{"RABBITMQ_PORT": "5672.0"}, []string{`RABBITMQ_PORT: must be 1-65535, got "5672.0"`}},
		{"redis db negative", map[string]string{"REDIS_DB": "-1"}, []string{`REDIS_DB: must be an integer >= 0, got "-1"`}},
		{"redis db not a number", map[string]string{"REDIS_DB": "one"}, []string{`REDIS_DB: must be an integer >= 0, got "one"`}},
		{"bool", map[string]string{"DEBUG": "yes"}, []string{`DEBUG: must be true or false, got "yes"`}},
		{"enabled bool", map[string]string{"POSTGRES_ENABLED": "nope"}, []string{`POSTGRES_ENABLED: must be true or false, got "nope"`}},
		{"registry bool", map[string]string{"REGISTRY_ENABLED": "off"}, []string{`REGISTRY_ENABLED: must be true or false, got "off"`}},
		{"duration without unit", map[string]string{"PROBE_INTERVAL": "30"}, []string{`PROBE_INTERVAL: must be a duration such as 500ms, 30s, 5m or 168h, got "30"`}},
		{"duration zero", map[string]string{"PROBE_INTERVAL": "0s"}, []string{`PROBE_INTERVAL: must be a duration > 0, got "0s"`}},
		{"timeout negative", map[string]string{"PROBE_TIMEOUT": "-1s"}, []string{`PROBE_TIMEOUT: must be a duration > 0, got "-1s"`}},
		{"timeout equals interval", map[string]string{"PROBE_TIMEOUT": "30s"}, []string{`PROBE_TIMEOUT: must be less than PROBE_INTERVAL (30s), got "30s"`}},
		{"timeout above interval", map[string]string{"PROBE_INTERVAL": "2s", "PROBE_TIMEOUT": "5s"}, []string{`PROBE_TIMEOUT: must be less than PROBE_INTERVAL (2s), got "5s"`}},
		{"interval below the minimum", map[string]string{"PROBE_INTERVAL": "500ms", "PROBE_TIMEOUT": "200ms"}, []string{`PROBE_INTERVAL: must be at least 1s, got "500ms"`}},
		{"outbox claim idle too short", map[string]string{"OUTBOX_CLAIM_IDLE": "5s"}, []string{`OUTBOX_CLAIM_IDLE: must be more than 5.5s (the publish timeout, 5s, plus the relay's backoff, 500ms: a shorter idle time lets another replica take over a transition still being published), got "5s"`}},
		{"api auth value", map[string]string{"API_AUTH": "reads"}, []string{`API_AUTH: must be one of writes, all, got "reads"`}},
		{"api auth all without a token", map[string]string{"API_AUTH": "all"}, []string{`API_AUTH: all needs API_TOKEN to be set`}},
		{"retry interval", map[string]string{"RETRY_INTERVAL": "0s"}, []string{`RETRY_INTERVAL: must be a duration > 0, got "0s"`}},
		{"outbox claim idle", map[string]string{"OUTBOX_CLAIM_IDLE": "-1s"}, []string{`OUTBOX_CLAIM_IDLE: must be a duration > 0, got "-1s"`}},
		{"concurrency", map[string]string{"PROBE_CONCURRENCY": "0"}, []string{`PROBE_CONCURRENCY: must be an integer >= 1, got "0"`}},
		{"failure threshold", map[string]string{"FAILURE_THRESHOLD": "0"}, []string{`FAILURE_THRESHOLD: must be an integer >= 1, got "0"`}},
		{"success threshold", map[string]string{"SUCCESS_THRESHOLD": "-2"}, []string{`SUCCESS_THRESHOLD: must be an integer >= 1, got "-2"`}},
		{"log size", map[string]string{"LOG_MAX_SIZE_MB": "0"}, []string{`LOG_MAX_SIZE_MB: must be an integer >= 1, got "0"`}},
		{"log backups", map[string]string{"LOG_MAX_BACKUPS": "-1"}, []string{`LOG_MAX_BACKUPS: must be an integer >= 0, got "-1"`}},
		{"log age", map[string]string{"LOG_MAX_AGE_DAYS": "x"}, []string{`LOG_MAX_AGE_DAYS: must be an integer >= 0, got "x"`}},
		{"history entries", map[string]string{"HISTORY_MAX_ENTRIES": "0"}, []string{`HISTORY_MAX_ENTRIES: must be an integer >= 1, got "0"`}},
		{"outbox cap", map[string]string{"OUTBOX_MAX_LENGTH": "99"}, []string{`OUTBOX_MAX_LENGTH: must be an integer >= 100, got "99"`}},
		{"history retention", map[string]string{"HISTORY_RETENTION": "-1h"}, []string{`HISTORY_RETENTION: must be a duration > 0, got "-1h0m0s"`}},
		{"alert retention", map[string]string{"ALERT_RETENTION": "1 week"}, []string{`ALERT_RETENTION: must be a duration such as 500ms, 30s, 5m or 168h, got "1 week"`}},
		{"shutdown timeout", map[string]string{"SHUTDOWN_TIMEOUT": "0s"}, []string{`SHUTDOWN_TIMEOUT: must be a duration > 0, got "0s"`}},
		{"app env", map[string]string{"APP_ENV": "staging"}, []string{`APP_ENV: must be one of development, test, production, got "staging"`}},
		{"app env path", map[string]string{"APP_ENV": "../../etc/passwd"}, []string{`APP_ENV: must be one of development, test, production, got "../../etc/passwd"`}},
		{"service name", map[string]string{"DB_SERVICE_NAME": "my service"}, []string{`DB_SERVICE_NAME: must be a non-empty name without spaces, got "my service"`}},
		{"host with port", map[string]string{"POSTGRES_HOST": "db:5432"}, []string{`POSTGRES_HOST: must be a host name or IP address without port, got "db:5432"`}},
		{"host with scheme", map[string]string{"MILVUS_HOST": "http://m"}, []string{`MILVUS_HOST: must be a host name or IP address without port, got "http://m"`}},
		{"host with space", map[string]string{"REDIS_HOST": "a b"}, []string{`REDIS_HOST: must be a host name or IP address without port, got "a b"`}},
		{"host bracketed", map[string]string{"RABBITMQ_HOST": "[::1]"}, []string{`RABBITMQ_HOST: must be a host name or IP address without port, got "[::1]"`}},
		{"es no scheme", map[string]string{"ELASTICSEARCH_HOSTS": "es:9200"}, []string{`ELASTICSEARCH_HOSTS: must be an http:// or https:// URL, got "es:9200"`}},
		{"es one of two bad", map[string]string{"ELASTICSEARCH_HOSTS": "http://es1:9200,ftp://es2"}, []string{`ELASTICSEARCH_HOSTS: must be an http:// or https:// URL, got "ftp://es2"`}},
		{"es credentials differ between urls", map[string]string{"ELASTICSEARCH_HOSTS": "http://elastic:" + pw + "@es1:9200,http://elastic:other@es2:9200"}, []string{`ELASTICSEARCH_HOSTS: the URLs carry different credentials; give them once in ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD`}},
		{"es url user conflicts", map[string]string{"ELASTICSEARCH_HOSTS": "http://elastic:" + pw + "@es:9200", "ELASTICSEARCH_USERNAME": "admin"}, []string{`ELASTICSEARCH_HOSTS: the URL's user "elastic" conflicts with ELASTICSEARCH_USERNAME "admin"`}},
		{"es url password conflicts", map[string]string{"ELASTICSEARCH_HOSTS": "http://elastic:" + pw + "@es:9200", "ELASTICSEARCH_PASSWORD": pw + "x"}, []string{`ELASTICSEARCH_HOSTS: the URL's password conflicts with ELASTICSEARCH_PASSWORD (values not shown)`}},
		{"es port", map[string]string{"ELASTICSEARCH_HOSTS": "http://es:99999"}, []string{`ELASTICSEARCH_HOSTS: port must be 1-65535, got "http://es:99999"`}},
		{"es empty list", map[string]string{"ELASTICSEARCH_HOSTS": " , "}, []string{`ELASTICSEARCH_HOSTS: must list at least one http:// or https:// URL`}},
		{"management url scheme", map[string]string{"RABBITMQ_MANAGEMENT_URL": "amqp://rabbit:15672"}, []string{`RABBITMQ_MANAGEMENT_URL: must be an http:// or https:// URL, got "amqp://rabbit:15672"`}},
		{"management url credentials", map[string]string{"RABBITMQ_MANAGEMENT_URL": "http://guest:" + pw + "@rabbit:15672"}, []string{`RABBITMQ_MANAGEMENT_URL: must not contain credentials (use RABBITMQ_USERNAME and RABBITMQ_PASSWORD), got "http://guest:******@rabbit:15672"`}},
		{"vhost blank", map[string]string{"RABBITMQ_VHOST": "  "}, []string{`RABBITMQ_VHOST: must not be blank`}},
		{"nacos scheme", map[string]string{"NACOS_SERVERS": "http://nacos:8848"}, []string{`NACOS_SERVERS: must be a comma-separated list of host:port, got "http://nacos:8848"`}},
		{"nacos port", map[string]string{"NACOS_SERVERS": "n1:8848,n2:0"}, []string{`NACOS_SERVERS: must be a comma-separated list of host:port, got "n2:0"`}},
		{"nacos empty list", map[string]string{"NACOS_SERVERS": ","}, []string{`NACOS_SERVERS: must list at least one host:port`}},
		{"nacos namespace", map[string]string{"NACOS_NAMESPACE": " "}, []string{`NACOS_NAMESPACE: must not be blank`}},
		{"nacos group", map[string]string{"NACOS_GROUP": " "}, []string{`NACOS_GROUP: must not be blank`}},
		{"bus scheme", map[string]string{"BUS_URL": "http://u:" + pw + "@h:5672/"}, []string{`BUS_URL: must be an amqp:// or amqps:// URL, got scheme "http"`}},
		{"bus no host", map[string]string{"BUS_URL": "amqp:///" + pw}, []string{`BUS_URL: must be an amqp:// or amqps:// URL with a host (value not shown, it is a secret)`}},
		{"bus unparsable", map[string]string{"BUS_URL": "amqp://u:" + pw + "@h:port/"}, []string{`BUS_URL: must be an amqp:// or amqps:// URL (not a valid URL; value not shown, it is a secret)`}},
		{"store scheme", map[string]string{"BUS_URL": "amqp://h/", "STORE_URL": "amqp://u:" + pw + "@h/"}, []string{`STORE_URL: must be a redis:// or rediss:// URL, got scheme "amqp"`}},
		{"embedded bus with shared store", map[string]string{"STORE_URL": "redis://:" + pw + "@h:6379/0"}, []string{`BUS_URL: the embedded bus (empty BUS_URL) serves one process only and cannot be combined with a shared STORE_URL; set BUS_URL to an amqp:// URL`}},
		{"bus exchange", map[string]string{"BUS_EXCHANGE": "db health"}, []string{`BUS_EXCHANGE: must be 1-255 characters of A-Z a-z 0-9 . _ : -, got "db health"`}},
		{"store key prefix", map[string]string{"STORE_KEY_PREFIX": "a{b}"}, []string{`STORE_KEY_PREFIX: must be 1-64 characters of A-Z a-z 0-9 . _ : -, got "a{b}"`}},
		{"service ip", map[string]string{"SERVICE_IP": "myhost"}, []string{`SERVICE_IP: must be an IP address, got "myhost"`}},
		{"replica id", map[string]string{"REPLICA_ID": "bad id"}, []string{`REPLICA_ID: must be 1-128 characters of A-Z a-z 0-9 . _ : - starting with a letter or digit, got "bad id"`}},
		{"several at once", map[string]string{"DB_SERVICE_PORT": "abc", "PROBE_INTERVAL": "5s", "PROBE_TIMEOUT": "10s", "REDIS_DB": "-3"}, []string{
			`DB_SERVICE_PORT: must be 1-65535, got "abc"`,
			`REDIS_DB: must be an integer >= 0, got "-3"`,
			`PROBE_TIMEOUT: must be less than PROBE_INTERVAL (5s), got "10s"`,
		}},
		{"parse failure reported once", map[string]string{"PROBE_INTERVAL": "soon"}, []string{`PROBE_INTERVAL: must be a duration such as 500ms, 30s, 5m or 168h, got "soon"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadWith(t, tt.environ, nil)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error echoes a secret: %v", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Var == "" {
				t.Errorf("error has no *FieldError: %#v", err)
			}
		})
	}
}

func TestValidConfigurations(t *testing.T) {
	tests := []struct {
		name    string
		environ map[string]string
	}{
		{"all defaults", nil},
		{"ipv6 hosts", map[string]string{"POSTGRES_HOST": "::1", "NACOS_SERVERS": "[::1]:8848", "ELASTICSEARCH_HOSTS": "http://[::1]:9200"}},
		{"shared bus and store", map[string]string{"BUS_URL": "amqps://u:p@rabbit:5671/vh", "STORE_URL": "rediss://:p@redis:6380/2"}},
		{"bus without store", map[string]string{"BUS_URL": "amqp://guest:guest@localhost:5672/"}},
		{"everything disabled", map[string]string{"POSTGRES_ENABLED": "false", "ELASTICSEARCH_ENABLED": "0", "MILVUS_ENABLED": "F", "REDIS_ENABLED": "false", "NACOS_ENABLED": "false", "RABBITMQ_ENABLED": "false", "REGISTRY_ENABLED": "false"}},
		{"empty value means default", map[string]string{"DB_SERVICE_PORT": "", "PROBE_INTERVAL": ""}},
		{"spaces around numbers", map[string]string{"DB_SERVICE_PORT": " 8090 ", "PROBE_INTERVAL": " 10s"}},
		{"service ip and replica", map[string]string{"SERVICE_IP": "10.1.2.3", "REPLICA_ID": "pod-7f9c:1"}},
		{"management url", map[string]string{"RABBITMQ_MANAGEMENT_URL": "https://rabbit:15671/"}},
		{"api auth all", map[string]string{"API_AUTH": "all", "API_TOKEN": "t", "METRICS_PUBLIC": "true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadWith(t, tt.environ, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, tg := range c.Targets() {
				if err := ValidateTarget(tg); err != nil {
					t.Errorf("default target %s invalid: %v", tg.ID(), err)
				}
			}
		})
	}
}

func TestValidateAfterChange(t *testing.T) {
	c := mustLoad(t, nil, nil)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.Probe.Timeout = c.Probe.Interval
	c.Service.Port = 0
	err := c.Validate()
	if err == nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v", err)
	}
	for _, w := range []string{`DB_SERVICE_PORT: must be 1-65535, got "0"`, `PROBE_TIMEOUT: must be less than PROBE_INTERVAL (30s), got "30s"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q lacks %q", err, w)
		}
	}
}
