package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/logging"
	"github.com/dbhealth/database-service/probes"
)

// loadWith writes files (path relative to a fresh working dir) and loads
// with exactly environ as the process environment.
func loadWith(t *testing.T, environ map[string]string, files map[string]string) (*Config, error) {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if environ == nil {
		environ = map[string]string{}
	}
	return Load(LoadOptions{Environ: environ, Dir: dir})
}

// mustLoad is loadWith that fails the test on an error.
func mustLoad(t *testing.T, environ map[string]string, files map[string]string) *Config {
	t.Helper()
	c, err := loadWith(t, environ, files)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestLoadDefaultsMatchSeed(t *testing.T) {
	c := mustLoad(t, nil, nil)
	got := map[string]any{
		"APP_ENV":                 c.AppEnv,
		"DEBUG":                   c.Debug,
		"DB_SERVICE_NAME":         c.Service.Name,
		"DB_SERVICE_PORT":         c.Service.Port,
		"POSTGRES_HOST":           c.Postgres.Host,
		"POSTGRES_PORT":           c.Postgres.Port,
		"POSTGRES_USER":           c.Postgres.User,
		"POSTGRES_PASSWORD":       c.Postgres.Password.Reveal(),
		"POSTGRES_DB":             c.Postgres.DB,
		"ELASTICSEARCH_HOSTS":     c.Elasticsearch.Hosts,
		"ELASTICSEARCH_USERNAME":  c.Elasticsearch.Username,
		"ELASTICSEARCH_PASSWORD":  c.Elasticsearch.Password.Reveal(),
		"MILVUS_HOST":             c.Milvus.Host,
		"MILVUS_PORT":             c.Milvus.Port,
		"MILVUS_USERNAME":         c.Milvus.Username,
		"MILVUS_PASSWORD":         c.Milvus.Password.Reveal(),
		"NACOS_USERNAME":          c.Nacos.Username,
		"NACOS_PASSWORD":          c.Nacos.Password.Reveal(),
		"REDIS_HOST":              c.Redis.Host,
		"REDIS_PORT":              c.Redis.Port,
		"REDIS_PASSWORD":          c.Redis.Password.Reveal(),
		"REDIS_DB":                c.Redis.DB,
		"RABBITMQ_HOST":           c.RabbitMQ.Host,
		"RABBITMQ_PORT":           c.RabbitMQ.Port,
		"RABBITMQ_USERNAME":       c.RabbitMQ.Username,
		"RABBITMQ_PASSWORD":       c.RabbitMQ.Password.Reveal(),
		"RABBITMQ_VHOST":          c.RabbitMQ.VHost,
		"RABBITMQ_MANAGEMENT_URL": c.RabbitMQ.ManagementURL,
		"NACOS_SERVERS":           c.Nacos.Servers,
		"NACOS_NAMESPACE":         c.Nacos.Namespace,
		"NACOS_GROUP":             c.Nacos.Group,
		"NACOS_CONFIG_DATA_ID":    c.Nacos.ConfigDataID,
		"PROBE_INTERVAL":          c.Probe.Interval,
		"PROBE_TIMEOUT":           c.Probe.Timeout,
		"PROBE_CONCURRENCY":       c.Probe.Concurrency,
		"RETRY_INTERVAL":          c.Probe.RetryInterval,
		"RECOVERY_BACKOFF":        c.Probe.RecoveryBackoff,
		"FAILURE_THRESHOLD":       c.Probe.FailureThreshold,
		"SUCCESS_THRESHOLD":       c.Probe.SuccessThreshold,
		"TARGETS_FILE":            c.Probe.TargetsFile,
		"LOG_FILE":                c.Log.File,
		"LOG_MAX_SIZE_MB":         c.Log.MaxSizeMB,
		"LOG_MAX_BACKUPS":         c.Log.MaxBackups,
		"LOG_MAX_AGE_DAYS":        c.Log.MaxAgeDays,
		"BUS_URL":                 c.Bus.URL.Reveal(),
		"STORE_URL":               c.Store.URL.Reveal(),
		"STORE_KEY_PREFIX":        c.Store.KeyPrefix,
		"OUTBOX_CLAIM_IDLE":       c.Store.OutboxClaimIdle,
		"OUTBOX_MAX_LENGTH":       c.Store.OutboxMaxLength,
		"BUS_EXCHANGE":            c.Bus.Exchange,
		"HISTORY_MAX_ENTRIES":     c.History.MaxEntries,
		"HISTORY_RETENTION":       c.History.Retention,
		"ALERT_RETENTION":         c.Alerts.Retention,
		"API_TOKEN":               c.Service.APIToken.Reveal(),
		"API_AUTH":                c.Service.APIAuth,
		"METRICS_PUBLIC":          c.Service.MetricsPublic,
		"REGISTRY_ENABLED":        c.Registry.Enabled,
		"SERVICE_IP":              c.Service.IP,
		"SHUTDOWN_TIMEOUT":        c.Service.ShutdownTimeout,
		"DATA_DIR":                c.Service.DataDir,
	}
	d := c.Alerts.Delivery
	for k, v := range map[string]any{
		"ALERT_MAX_ATTEMPTS": d.MaxAttempts, "ALERT_REPEAT_INTERVAL": d.RepeatInterval,
		"ALERTMANAGER_RESEND_INTERVAL": d.ResendInterval, "ALERT_BASE_URL": d.BaseURL,
		"ALERT_RETRY_INTERVAL": d.RetryInterval, "ALERT_SEND_TIMEOUT": d.SendTimeout, "ALERT_CLAIM_LEASE": d.ClaimLease,
		"ALERT_LOG_RETENTION": d.LogRetention,
		"ALERT_WEBHOOK_URL":   d.WebhookURL, "ALERT_WEBHOOK_SECRETS": len(d.WebhookSecrets),
		"ALERTMANAGER_URLS": len(d.AlertmanagerURLs), "ALERT_SLACK_WEBHOOK_URL": d.SlackURL.Reveal(),
		"ALERT_SMTP_HOST": d.SMTP.Host, "ALERT_SMTP_PORT": d.SMTP.Port, "ALERT_SMTP_STARTTLS": d.SMTP.StartTLS,
		"ALERT_SMTP_USERNAME": d.SMTP.Username, "ALERT_SMTP_PASSWORD": d.SMTP.Password.Reveal(),
		"ALERT_EMAIL_FROM": d.SMTP.From, "ALERT_EMAIL_TO": len(d.SMTP.To),
	} {
		got[k] = v
	}
	for _, e := range c.tlsEnvs() {
		for i, v := range e.vars {
			got[v] = *e.vals[i]
		}
	}
	want := map[string]any{
		"APP_ENV":                 "development",
		"DEBUG":                   false,
		"DB_SERVICE_NAME":         "database-service",
		"DB_SERVICE_PORT":         8089,
		"POSTGRES_HOST":           "localhost",
		"POSTGRES_PORT":           5432,
		"POSTGRES_USER":           "postgres",
		"POSTGRES_PASSWORD":       "password",
		"POSTGRES_DB":             "carbon_db",
		"ELASTICSEARCH_HOSTS":     []string{"http://localhost:9200"},
		"ELASTICSEARCH_USERNAME":  "",
		"ELASTICSEARCH_PASSWORD":  "",
		"MILVUS_HOST":             "localhost",
		"MILVUS_PORT":             19530,
		"MILVUS_USERNAME":         "",
		"MILVUS_PASSWORD":         "",
		"NACOS_USERNAME":          "",
		"NACOS_PASSWORD":          "",
		"REDIS_HOST":              "localhost",
		"REDIS_PORT":              6379,
		"REDIS_PASSWORD":          "",
		"REDIS_DB":                0,
		"RABBITMQ_HOST":           "localhost",
		"RABBITMQ_PORT":           5672,
		"RABBITMQ_USERNAME":       "guest",
		"RABBITMQ_PASSWORD":       "guest",
		"RABBITMQ_VHOST":          "/",
		"RABBITMQ_MANAGEMENT_URL": "",
		"NACOS_SERVERS":           []string{"localhost:8848"},
		"NACOS_NAMESPACE":         "public",
		"NACOS_GROUP":             "DEFAULT_GROUP",
		"NACOS_CONFIG_DATA_ID":    "",
		"PROBE_INTERVAL":          30 * time.Second,
		"PROBE_TIMEOUT":           5 * time.Second,
		"PROBE_CONCURRENCY":       64,
		"RETRY_INTERVAL":          time.Second,
		"RECOVERY_BACKOFF":        true,
		"FAILURE_THRESHOLD":       3,
		"SUCCESS_THRESHOLD":       2,
		"TARGETS_FILE":            "",
		"LOG_FILE":                "",
		"LOG_MAX_SIZE_MB":         100,
		"LOG_MAX_BACKUPS":         5,
		"LOG_MAX_AGE_DAYS":        28,
		"BUS_URL":                 "",
		"STORE_URL":               "",
		"STORE_KEY_PREFIX":        "dbsvc",
		"OUTBOX_CLAIM_IDLE":       10 * time.Second,
		"OUTBOX_MAX_LENGTH":       100000,
		"BUS_EXCHANGE":            "db.health",
		"HISTORY_MAX_ENTRIES":     10000,
		"HISTORY_RETENTION":       168 * time.Hour,
		"ALERT_RETENTION":         720 * time.Hour,
		// Alert delivery: 8 attempts, reminders every 4h, Alertmanager
		// re-sent every minute, no receiver.
		"ALERT_MAX_ATTEMPTS": 8, "ALERT_REPEAT_INTERVAL": 4 * time.Hour, "ALERTMANAGER_RESEND_INTERVAL": time.Minute,
		"ALERT_RETRY_INTERVAL": 5 * time.Second, "ALERT_SEND_TIMEOUT": 30 * time.Second, "ALERT_CLAIM_LEASE": 2 * time.Minute,
		"ALERT_LOG_RETENTION": 168 * time.Hour,
		"ALERT_BASE_URL":      "", "ALERT_WEBHOOK_URL": "", "ALERT_WEBHOOK_SECRETS": 0, "ALERTMANAGER_URLS": 0,
		"ALERT_SLACK_WEBHOOK_URL": "", "ALERT_SMTP_HOST": "", "ALERT_SMTP_PORT": 587, "ALERT_SMTP_STARTTLS": "required",
		"ALERT_SMTP_USERNAME": "", "ALERT_SMTP_PASSWORD": "", "ALERT_EMAIL_FROM": "", "ALERT_EMAIL_TO": 0,
		"API_TOKEN":        "",
		"API_AUTH":         "writes",
		"METRICS_PUBLIC":   false,
		"REGISTRY_ENABLED": true,
		"SERVICE_IP":       "",
		"SHUTDOWN_TIMEOUT": 15 * time.Second,
		"DATA_DIR":         filepath.Join(os.TempDir(), "database-service"),
	}
	for _, k := range []string{"POSTGRES_SSLMODE", "POSTGRES_SSLROOTCERT", "POSTGRES_SSLCERT", "POSTGRES_SSLKEY", "ELASTICSEARCH_TLS", "ELASTICSEARCH_CA_CERT", "ELASTICSEARCH_CLIENT_CERT", "ELASTICSEARCH_CLIENT_KEY", "MILVUS_TLS", "MILVUS_TLS_CA_CERT", "MILVUS_TLS_CERT", "MILVUS_TLS_KEY", "REDIS_TLS", "REDIS_TLS_CA_CERT", "REDIS_TLS_CERT", "REDIS_TLS_KEY", "RABBITMQ_TLS", "RABBITMQ_TLS_CA_CERT", "RABBITMQ_TLS_CERT", "RABBITMQ_TLS_KEY", "NACOS_TLS", "NACOS_TLS_CA_CERT", "NACOS_TLS_CERT", "NACOS_TLS_KEY"} {
		want[k] = "" // TLS off, no files
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
	src := c.Sources()
	for k := range want {
		if src[k] != SourceDefault {
			t.Errorf("Sources()[%s] = %q, want default", k, src[k])
		}
	}
	for _, k := range probes.Kinds {
		key := kindVarPrefix(k) + "_ENABLED"
		if src[key] != SourceDefault {
			t.Errorf("Sources()[%s] = %q, want default", key, src[key])
		}
	}
	if src["REPLICA_ID"] != SourceDefault {
		t.Errorf("Sources()[REPLICA_ID] = %q, want default", src["REPLICA_ID"])
	}
	if n := len(want) + len(probes.Kinds) + 1; len(src) != n {
		t.Errorf("Sources has %d keys, want %d: %v", len(src), n, sortedKeys(src))
	}
	if !regexp.MustCompile(`^[A-Za-z0-9._-]+-[0-9]+-[0-9a-f]{6}$`).MatchString(c.Service.ReplicaID) {
		t.Errorf("default REPLICA_ID %q is not hostname-pid-random", c.Service.ReplicaID)
	}
	if c2 := mustLoad(t, nil, nil); c2.Service.ReplicaID == c.Service.ReplicaID {
		t.Errorf("two loads got the same random REPLICA_ID %q", c.Service.ReplicaID)
	}
	if len(c.Files()) != 0 || len(c.Warnings()) != 0 {
		t.Errorf("Files %v Warnings %v, want none", c.Files(), c.Warnings())
	}
}

func TestLoadPrecedence(t *testing.T) {
	files := map[string]string{
		"config/development.env": "POSTGRES_HOST=from-devfile\nREDIS_HOST=from-devfile\nMILVUS_HOST=from-devfile\nPROBE_INTERVAL=10s\n",
		".env":                   "REDIS_HOST=from-dotenv\nMILVUS_HOST=from-dotenv\n",
		"config/production.env":  "POSTGRES_HOST=from-prodfile\n",
	}
	environ := map[string]string{"MILVUS_HOST": "from-env", "UNRELATED": "x"}
	c := mustLoad(t, environ, files)
	checks := []struct{ key, got, want, source string }{
		{"POSTGRES_HOST", c.Postgres.Host, "from-devfile", "config/development.env"},
		{"REDIS_HOST", c.Redis.Host, "from-dotenv", ".env"},
		{"MILVUS_HOST", c.Milvus.Host, "from-env", "environment"},
		{"RABBITMQ_HOST", c.RabbitMQ.Host, "localhost", "default"},
		{"PROBE_INTERVAL", c.Probe.Interval.String(), "10s", "config/development.env"},
	}
	src := c.Sources()
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.key, ch.got, ch.want)
		}
		if src[ch.key] != ch.source {
			t.Errorf("Sources()[%s] = %q, want %q", ch.key, src[ch.key], ch.source)
		}
	}
	if want := []string{".env", "config/development.env"}; !reflect.DeepEqual(c.Files(), want) {
		t.Errorf("Files() = %v, want %v", c.Files(), want)
	}
	if _, ok := src["UNRELATED"]; ok {
		t.Error("Sources lists a variable that is not configuration")
	}
}

func TestLoadAppEnvSelectsFile(t *testing.T) {
	files := map[string]string{
		"config/development.env": "POSTGRES_HOST=dev\n",
		"config/test.env":        "POSTGRES_HOST=test\nAPP_ENV=production\n",
		"config/production.env":  "POSTGRES_HOST=prod\n",
	}
	tests := []struct {
		name     string
		environ  map[string]string
		dotenv   string
		wantEnv  string
		wantHost string
		wantSrc  string
	}{
		{"default", nil, "", "development", "dev", "default"},
		{"environment", map[string]string{"APP_ENV": "production"}, "", "production", "prod", "environment"},
		{"dotenv", nil, "APP_ENV=test\n", "test", "test", ".env"},
		{"environment beats dotenv", map[string]string{"APP_ENV": "production"}, "APP_ENV=test\n", "production", "prod", "environment"},
		{"empty environment value ignored", map[string]string{"APP_ENV": ""}, "APP_ENV=test\n", "test", "test", ".env"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := map[string]string{}
			for k, v := range files {
				fs[k] = v
			}
			if tt.dotenv != "" {
				fs[".env"] = tt.dotenv
			}
			c := mustLoad(t, tt.environ, fs)
			if c.AppEnv != tt.wantEnv || c.Postgres.Host != tt.wantHost {
				t.Errorf("APP_ENV=%q POSTGRES_HOST=%q, want %q %q", c.AppEnv, c.Postgres.Host, tt.wantEnv, tt.wantHost)
			}
			if got := c.Sources()["APP_ENV"]; got != tt.wantSrc {
				t.Errorf("Sources()[APP_ENV] = %q, want %q", got, tt.wantSrc)
			}
		})
	}
}

func TestLoadMissingEnvFilesAreFine(t *testing.T) {
	c := mustLoad(t, map[string]string{"APP_ENV": "production"}, nil)
	if c.AppEnv != EnvProduction || len(c.Files()) != 0 {
		t.Fatalf("AppEnv %q Files %v", c.AppEnv, c.Files())
	}
}

func TestLoadBadEnvFile(t *testing.T) {
	_, err := loadWith(t, nil, map[string]string{"config/development.env": "A=1\nPOSTGRES_PASSWORD=\"hunter2secret\n"})
	if err == nil || !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	for _, want := range []string{"config/development.env", "line 2", "POSTGRES_PASSWORD", "unterminated"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "hunter2secret") {
		t.Errorf("error echoes the secret: %v", err)
	}
}

func TestLoadWarnsUnknownFileKeys(t *testing.T) {
	c := mustLoad(t, map[string]string{"POSTGRES_HOTS": "x"}, map[string]string{".env": "# c\nPOSTGRES_HOTS=db\nPOSTGRES_HOST=db\n"})
	want := []string{".env:2: unknown variable POSTGRES_HOTS ignored"}
	if !reflect.DeepEqual(c.Warnings(), want) {
		t.Fatalf("Warnings() = %q, want %q", c.Warnings(), want)
	}
}

func TestLoadNormalizes(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"ELASTICSEARCH_HOSTS": " http://es1:9200 , https://es2:9243,,",
		"NACOS_SERVERS":       "n1, n2:9848 ,[::1],10.0.0.1",
		"TARGETS_FILE":        "targets.yaml",
		"LOG_FILE":            "logs/svc.log",
		"DATA_DIR":            "state",
		"REPLICA_ID":          "replica-a",
	}, map[string]string{"targets.yaml": ""})
	dir := filepath.Dir(c.Probe.TargetsFile)
	if want := []string{"http://es1:9200", "https://es2:9243"}; !reflect.DeepEqual(c.Elasticsearch.Hosts, want) {
		t.Errorf("Hosts = %q, want %q", c.Elasticsearch.Hosts, want)
	}
	if want := []string{"n1:8848", "n2:9848", "[::1]:8848", "10.0.0.1:8848"}; !reflect.DeepEqual(c.Nacos.Servers, want) {
		t.Errorf("Servers = %q, want %q", c.Nacos.Servers, want)
	}
	if !filepath.IsAbs(c.Probe.TargetsFile) || c.Log.File != filepath.Join(dir, "logs", "svc.log") || c.Service.DataDir != filepath.Join(dir, "state") {
		t.Errorf("paths not resolved: %q %q %q", c.Probe.TargetsFile, c.Log.File, c.Service.DataDir)
	}
	if c.Service.ReplicaID != "replica-a" {
		t.Errorf("ReplicaID = %q", c.Service.ReplicaID)
	}
}

func TestShippedEnvFiles(t *testing.T) {
	for _, env := range []string{EnvDevelopment, EnvTest, EnvProduction} {
		t.Run(env, func(t *testing.T) {
			// The shipped files live in the repository's config/ directory,
			// which is this package's directory: the working dir is "..".
			c, err := Load(LoadOptions{Environ: map[string]string{"APP_ENV": env}, Dir: ".."})
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"config/" + env + ".env"}; !reflect.DeepEqual(c.Files(), want) {
				t.Errorf("Files() = %v, want %v", c.Files(), want)
			}
			// The shipped production file leaves API_TOKEN to the
			// deployment, so that start warns of it; nothing else.
			unknown := slices.DeleteFunc(c.Warnings(), func(w string) bool { return strings.HasPrefix(w, "APP_ENV=production without API_TOKEN") })
			if len(unknown) > 0 {
				t.Errorf("unknown variables in the shipped file: %v", unknown)
			}
			if len(c.Targets()) == 0 {
				t.Error("no targets")
			}
			wantFormat := logging.FormatText
			if env == EnvProduction {
				wantFormat = logging.FormatJSON
			}
			if got := c.LoggingOptions().Format; got != wantFormat {
				t.Errorf("log format %q, want %q", got, wantFormat)
			}
			for k, src := range c.Sources() {
				if strings.Contains(k, "PASSWORD") || k == "API_TOKEN" || k == "BUS_URL" || k == "STORE_URL" {
					if src != SourceDefault {
						t.Errorf("shipped file sets secret %s", k)
					}
				}
			}
		})
	}
}

func TestLoadReadsProcessEnvironmentWhenNil(t *testing.T) {
	t.Setenv("APP_ENV", "test")
	t.Setenv("DB_SERVICE_PORT", "9999")
	c, err := Load(LoadOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if c.AppEnv != EnvTest || c.Service.Port != 9999 {
		t.Fatalf("AppEnv %q Port %d", c.AppEnv, c.Service.Port)
	}
}

// Credentials in ELASTICSEARCH_HOSTS (as the Elasticsearch clients accept
// them) move to the username and password, so the addresses that are
// shown and logged carry no secret.
func TestLoadLiftsURLCredentials(t *testing.T) {
	const pw = "s3cr3t-canary"
	c := mustLoad(t, map[string]string{
		"ELASTICSEARCH_HOSTS": "http://elastic:" + pw + "@es1:9200,https://elastic:" + pw + "@es2:9243",
	}, nil)
	if want := []string{"http://es1:9200", "https://es2:9243"}; !reflect.DeepEqual(c.Elasticsearch.Hosts, want) {
		t.Errorf("Hosts = %q, want %q", c.Elasticsearch.Hosts, want)
	}
	if c.Elasticsearch.Username != "elastic" || c.Elasticsearch.Password.Reveal() != pw {
		t.Errorf("credentials = %q/%v, want elastic and the password", c.Elasticsearch.Username, c.Elasticsearch.Password.IsSet())
	}
	for _, tg := range c.Targets() {
		if tg.Name == "elasticsearch" {
			if strings.Contains(strings.Join(tg.Addresses, ","), pw) || tg.Password.Reveal() != pw {
				t.Errorf("target addresses %q, password set %v", tg.Addresses, tg.Password.IsSet())
			}
		}
	}
	shown, err := json.Marshal(c.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(shown), pw) {
		t.Errorf("redacted configuration shows the password: %s", shown)
	}

	// The targets file lifts them the same way.
	tgs, err := ParseTargets([]byte("targets: [{name: a, type: elasticsearch, hosts: ['http://u:"+pw+"@es:9200']}]"), testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	if tgs[0].Addresses[0] != "http://es:9200" || tgs[0].Username != "u" || tgs[0].Password.Reveal() != pw {
		t.Errorf("target = %q %q %v", tgs[0].Addresses, tgs[0].Username, tgs[0].Password.IsSet())
	}
}

func TestLoadWarnsProductionWithoutToken(t *testing.T) {
	const warning = "APP_ENV=production without API_TOKEN: the API's write routes are open to anyone who can reach the port"
	c := mustLoad(t, map[string]string{"APP_ENV": "production"}, nil)
	if !slices.Contains(c.Warnings(), warning) {
		t.Errorf("Warnings() = %q, want the missing token warned", c.Warnings())
	}
	for _, env := range []map[string]string{{"APP_ENV": "production", "API_TOKEN": "t0ken-canary"}, {"APP_ENV": "development"}} {
		if c := mustLoad(t, env, nil); slices.Contains(c.Warnings(), warning) {
			t.Errorf("%v: warned although %q", env, c.Warnings())
		}
	}
}
