package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/probes"
)

// testDefaults are the global defaults the table tests parse with.
var testDefaults = Defaults{Interval: 30 * time.Second, Timeout: 5 * time.Second, FailureThreshold: 3, SuccessThreshold: 2}

// defLimits are the probes package's default limits.
var defLimits = probes.Limits{}.WithDefaults()

func TestParseTargetsExampleFile(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "targets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseTargets(data, testDefaults)
	if err != nil {
		t.Fatal(err)
	}
	fileLimits := probes.Limits{ConnRatio: 0.8, MemoryRatio: 0.9, ReplicaLag: 30 * time.Second}
	sched := func(t probes.Target) probes.Target {
		t.Interval, t.Timeout, t.FailureThreshold, t.SuccessThreshold, t.Limits = 15*time.Second, 3*time.Second, 2, 1, fileLimits
		return t
	}
	want := []probes.Target{
		func() probes.Target {
			t := sched(probes.Target{Kind: probes.Postgres, Name: "orders-replica", Host: "127.0.0.1", Port: 5433,
				Username: "reader", Password: "pg-file-secret", Database: "orders", TLS: probes.TLS{Mode: probes.TLSVerifyFull}})
			t.Limits.ReplicaLag = 10 * time.Second
			return t
		}(),
		sched(probes.Target{Kind: probes.Elasticsearch, Name: "logs", Host: "127.0.0.1", Port: 9201,
			Addresses: []string{"http://127.0.0.1:9201", "https://127.0.0.1:9202"}, Username: "elastic", Password: "es-file-secret",
			TLS: probes.TLS{Mode: probes.TLSVerifyFull}}),
		func() probes.Target {
			t := sched(probes.Target{Kind: probes.Milvus, Name: "vectors", Host: "127.0.0.1", Port: 19530})
			t.Interval, t.Timeout = time.Minute, 10*time.Second
			return t
		}(),
		func() probes.Target {
			t := sched(probes.Target{Kind: probes.Redis, Name: "cache", Host: "127.0.0.1", Port: 6380, DB: 3, Password: "redis-file-secret"})
			t.Limits.ConnRatio, t.Limits.MemoryRatio = 0.5, 0.75
			return t
		}(),
		sched(probes.Target{Kind: probes.Nacos, Name: "registry-b", Host: "127.0.0.1", Port: 8849,
			Addresses: []string{"127.0.0.1:8849", "127.0.0.2:8848"}, Namespace: "staging", Group: "DB"}),
		func() probes.Target {
			t := sched(probes.Target{Kind: probes.RabbitMQ, Name: "events-b", Host: "127.0.0.1", Port: 5672,
				Username: "app", Password: "amqp-file-secret", VHost: "app", ManagementURL: "http://127.0.0.1:15672"})
			t.FailureThreshold = 5
			return t
		}(),
	}
	if len(got) != len(want) {
		t.Fatalf("got %d targets, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("target %d:\n got %#v\nwant %#v", i, got[i], want[i])
		}
	}
}

func TestParseTargetsKindDefaults(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want probes.Target
	}{
		{"postgres", "targets: [{name: p, type: postgres, host: db}]",
			probes.Target{Kind: probes.Postgres, Name: "p", Host: "db", Port: 5432, Username: "postgres", Database: "postgres"}},
		{"elasticsearch from host", "targets: [{name: e, type: elasticsearch, host: es}]",
			probes.Target{Kind: probes.Elasticsearch, Name: "e", Host: "es", Port: 9200, Addresses: []string{"http://es:9200"}}},
		{"elasticsearch tls from host", "targets: [{name: e, type: elasticsearch, host: es, port: 9243, tls: true}]",
			probes.Target{Kind: probes.Elasticsearch, Name: "e", Host: "es", Port: 9243, TLS: probes.TLS{Mode: probes.TLSVerifyFull}, Addresses: []string{"https://es:9243"}}},
		{"elasticsearch url without port", "targets: [{name: e, type: elasticsearch, addresses: [https://es.example]}]",
			probes.Target{Kind: probes.Elasticsearch, Name: "e", Host: "es.example", Port: 443, TLS: probes.TLS{Mode: probes.TLSVerifyFull}, Addresses: []string{"https://es.example"}}},
		{"milvus", "targets: [{name: m, type: milvus, host: mv}]",
			probes.Target{Kind: probes.Milvus, Name: "m", Host: "mv", Port: 19530}},
		{"redis", "targets: [{name: r, type: redis, host: rd}]",
			probes.Target{Kind: probes.Redis, Name: "r", Host: "rd", Port: 6379}},
		{"nacos from host", "targets: [{name: n, type: nacos, host: nc}]",
			probes.Target{Kind: probes.Nacos, Name: "n", Host: "nc", Port: 8848, Addresses: []string{"nc:8848"}, Namespace: "public", Group: "DEFAULT_GROUP"}},
		{"nacos hosts synonym", "targets: [{name: n, type: nacos, hosts: ['nc:9848']}]",
			probes.Target{Kind: probes.Nacos, Name: "n", Host: "nc", Port: 9848, Addresses: []string{"nc:9848"}, Namespace: "public", Group: "DEFAULT_GROUP"}},
		{"rabbitmq", "targets: [{name: q, type: rabbitmq, host: mq}]",
			probes.Target{Kind: probes.RabbitMQ, Name: "q", Host: "mq", Port: 5672, VHost: "/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTargets([]byte(tt.yaml), testDefaults)
			if err != nil {
				t.Fatal(err)
			}
			want := tt.want
			want.Interval, want.Timeout, want.FailureThreshold, want.SuccessThreshold, want.Limits = 30*time.Second, 5*time.Second, 3, 2, defLimits
			if len(got) != 1 || !reflect.DeepEqual(got[0], want) {
				t.Fatalf("got %#v\nwant %#v", got, want)
			}
		})
	}
}

func TestParseTargetsEmpty(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n", "targets: []", "targets:", "---\n"} {
		got, err := ParseTargets([]byte(in), testDefaults)
		if err != nil || len(got) != 0 {
			t.Errorf("%q: got %v, %v; want no targets", in, got, err)
		}
	}
}

func TestParseTargetsErrors(t *testing.T) {
	const pw = "hunter2-canary"
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"unknown top-level field", "target: []", []string{"field target not found in the targets document"}},
		{"unknown target field", "targets: [{name: a, type: redis, host: h, hots: x}]", []string{"field hots not found in a target"}},
		{"unknown defaults field", "defaults: {intervall: 1s}", []string{"field intervall not found in defaults"}},
		{"unknown degraded field", "targets: [{name: a, type: redis, host: h, degraded: {cpu: 1}}]", []string{"field cpu not found in degraded"}},
		{"not yaml", "targets: [", []string{"yaml:"}},
		{"wrong shape", "targets: {name: a}", []string{"cannot unmarshal"}},
		{"two documents", "targets: []\n---\ntargets: []\n", []string{"single YAML document"}},
		{"missing type", "targets: [{name: a, host: h}]", []string{"targets[0]: type: required, one of postgres, elasticsearch, milvus, redis, nacos, rabbitmq"}},
		{"bad type", "targets: [{name: a, type: mysql, host: h}]", []string{`targets[0] (mysql/a): type: must be one of postgres, elasticsearch, milvus, redis, nacos, rabbitmq, got "mysql"`}},
		{"missing name", "targets: [{type: redis, host: h}]", []string{"targets[0]: name: required"}},
		{"bad name", "targets: [{name: 'a b', type: redis, host: h}]", []string{`targets[0] (redis/a b): name: must be 1-64 characters`}},
		{"name too long", "targets: [{name: " + strings.Repeat("n", 65) + ", type: redis, host: h}]", []string{"name: must be 1-64 characters"}},
		{"duplicate name", "targets: [{name: a, type: redis, host: h}, {name: a, type: redis, host: h2}]", []string{`targets[1] (redis/a): name "a" is already used by targets[0]`}},
		{"missing host", "targets: [{name: a, type: redis}]", []string{`targets[0] (redis/a): host: must be a host name or IP address without port, got ""`}},
		{"host with port", "targets: [{name: a, type: redis, host: 'h:6379'}]", []string{`host: must be a host name or IP address without port, got "h:6379"`}},
		{"port range", "targets: [{name: a, type: postgres, host: h, port: 0}]", []string{`targets[0] (postgres/a): port: must be 1-65535, got 0`}},
		{"port type", "targets: [{name: a, type: postgres, host: h, port: abc}]", []string{"cannot unmarshal !!str `abc` into int"}},
		{"redis db", "targets: [{name: a, type: redis, host: h, db: -1}]", []string{"db: must be >= 0, got -1"}},
		{"field of another kind", "targets: [{name: a, type: redis, host: h, database: x, vhost: v}]", []string{"database: does not apply to type redis", "vhost: does not apply to type redis"}},
		{"degraded of another kind", "targets: [{name: a, type: milvus, host: h, degraded: {conn_ratio: 0.5}}]", []string{"degraded.conn_ratio: does not apply to type milvus"}},
		{"ratio zero", "targets: [{name: a, type: redis, host: h, degraded: {memory_ratio: 0}}]", []string{"degraded.memory_ratio: must be in (0,1], got 0"}},
		{"ratio above one", "targets: [{name: a, type: postgres, host: h, degraded: {conn_ratio: 1.5}}]", []string{"degraded.conn_ratio: must be in (0,1], got 1.5"}},
		{"ratio nan", "targets: [{name: a, type: postgres, host: h, degraded: {conn_ratio: .nan}}]", []string{"degraded.conn_ratio: must be in (0,1], got NaN"}},
		{"replica lag", "targets: [{name: a, type: postgres, host: h, degraded: {replica_lag: -1s}}]", []string{"degraded.replica_lag: must be a duration > 0, got -1s"}},
		{"interval zero", "targets: [{name: a, type: redis, host: h, interval: 0s}]", []string{"interval: must be a duration > 0, got 0s"}},
		{"interval below the minimum", "targets: [{name: a, type: redis, host: h, interval: 500ms, timeout: 100ms}]", []string{"interval: must be at least 1s, got 500ms"}},
		{"interval without unit", "targets: [{name: a, type: redis, host: h, interval: 30}]", []string{"cannot unmarshal !!int `30` into time.Duration"}},
		{"timeout not below interval", "targets: [{name: a, type: redis, host: h, interval: 5s, timeout: 5s}]", []string{"timeout: must be less than interval (5s), got 5s"}},
		{"timeout above default interval", "targets: [{name: a, type: redis, host: h, timeout: 1m}]", []string{"timeout: must be less than interval (30s), got 1m0s"}},
		{"thresholds", "targets: [{name: a, type: redis, host: h, failure_threshold: 0, success_threshold: -1}]", []string{"failure_threshold: must be >= 1, got 0", "success_threshold: must be >= 1, got -1"}},
		{"defaults invalid", "defaults: {interval: 1s, timeout: 2s}\ntargets: [{name: a, type: redis, host: h}]", []string{"defaults: timeout: must be less than interval (1s), got 2s"}},
		{"defaults ratio", "defaults: {degraded: {conn_ratio: 2}}", []string{"defaults: degraded.conn_ratio: must be in (0,1], got 2"}},
		{"defaults threshold", "defaults: {failure_threshold: 0}", []string{"defaults: failure_threshold: must be >= 1, got 0"}},
		{"es no address", "targets: [{name: a, type: elasticsearch}]", []string{"hosts: required"}},
		{"es bad url", "targets: [{name: a, type: elasticsearch, hosts: ['es:9200']}]", []string{`hosts: must be an http:// or https:// URL, got "es:9200"`}},
		{"es credentials differ", "targets: [{name: a, type: elasticsearch, hosts: ['http://u:" + pw + "@es:9200', 'http://v:" + pw + "@es2:9200']}]", []string{`hosts: the URLs carry different credentials; give them once in username and password`}},
		{"es credentials conflict", "targets: [{name: a, type: elasticsearch, username: w, hosts: ['http://u:" + pw + "@es:9200']}]", []string{`hosts: the URL's user "u" conflicts with username "w"`}},
		{"es host and hosts", "targets: [{name: a, type: elasticsearch, host: es, hosts: ['http://es:9200']}]", []string{"host/port and hosts: give only one of them"}},
		{"hosts and addresses", "targets: [{name: a, type: nacos, hosts: ['n:8848'], addresses: ['n:8848']}]", []string{"hosts and addresses: give only one of them"}},
		{"nacos bad address", "targets: [{name: a, type: nacos, addresses: ['http://n:8848']}]", []string{`addresses: must be host:port, got "http://n:8848"`}},
		{"nacos no address", "targets: [{name: a, type: nacos}]", []string{"addresses: required"}},
		{"hosts on postgres", "targets: [{name: a, type: postgres, hosts: ['h']}]", []string{"hosts/addresses: does not apply to type postgres"}},
		{"rabbit management url", "targets: [{name: a, type: rabbitmq, host: h, management_url: 'ftp://h'}]", []string{`management_url: must be an http:// or https:// URL, got "ftp://h"`}},
		{"rabbit management creds", "targets: [{name: a, type: rabbitmq, host: h, password: " + pw + ", management_url: 'http://g:" + pw + "@h:15672'}]", []string{"management_url: must not contain credentials"}},
		{"rabbit blank vhost", "targets: [{name: a, type: rabbitmq, host: h, vhost: ' '}]", []string{"vhost: must not be blank"}},
		{"password in a bad host is scrubbed", "targets: [{name: a, type: redis, password: " + pw + ", host: 'x/" + pw + "'}]", []string{`host: must be a host name or IP address without port, got "x/******"`}},
		{"every problem reported", "targets: [{name: a, type: redis, host: h, port: 0}, {name: b, type: redis, host: h, db: -1}]", []string{"targets[0] (redis/a): port", "targets[1] (redis/b): db"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTargets([]byte(tt.yaml), testDefaults)
			if err == nil {
				t.Fatalf("no error, got %v", got)
			}
			if got != nil {
				t.Errorf("targets returned with an error: %v", got)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\n lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), pw) {
				t.Errorf("error echoes a password: %v", err)
			}
		})
	}
}

func TestLoadTargetsFile(t *testing.T) {
	example, err := os.ReadFile(filepath.Join("testdata", "targets.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, map[string]string{"TARGETS_FILE": "t.yaml", "MILVUS_ENABLED": "false"}, map[string]string{"t.yaml": string(example)})
	var ids []string
	for _, tg := range c.Targets() {
		ids = append(ids, tg.ID())
	}
	want := []string{
		"postgres/postgres", "elasticsearch/elasticsearch", "redis/redis", "nacos/nacos", "rabbitmq/rabbitmq",
		"postgres/orders-replica", "elasticsearch/logs", "milvus/vectors", "redis/cache", "nacos/registry-b", "rabbitmq/events-b",
	}
	if !reflect.DeepEqual(ids, want) {
		t.Fatalf("targets %v\nwant %v", ids, want)
	}
	src := c.Sources()
	if src["targets/postgres/orders-replica"] != SourceTargetsFile || src["TARGETS_FILE"] != SourceEnvironment {
		t.Errorf("sources: %v", src)
	}
	// Default targets keep the global schedule; file defaults apply to file targets only.
	if tg := c.Targets()[0]; tg.Interval != 30*time.Second || tg.FailureThreshold != 3 {
		t.Errorf("default target schedule changed: %+v", tg)
	}
	// Targets returns copies.
	c.Targets()[1].Addresses[0] = "mutated"
	if c.Targets()[1].Addresses[0] == "mutated" {
		t.Error("Targets aliases the config")
	}
}

func TestLoadTargetsFileErrors(t *testing.T) {
	tests := []struct {
		name    string
		environ map[string]string
		file    string
		want    string
	}{
		{"missing file", map[string]string{"TARGETS_FILE": "nope.yaml"}, "", "nope.yaml: cannot read: no such file or directory"},
		{"invalid target", map[string]string{"TARGETS_FILE": "t.yaml"}, "targets: [{name: a, type: redis, host: h, port: 0}]", "t.yaml: targets[0] (redis/a): port: must be 1-65535, got 0"},
		{"clash with default target", map[string]string{"TARGETS_FILE": "t.yaml"}, "targets: [{name: redis, type: redis, host: h}]",
			`t.yaml: targets[0] (redis/redis): name "redis" is taken by the default redis target; rename it or set REDIS_ENABLED=false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string]string{}
			if tt.file != "" {
				files["t.yaml"] = tt.file
			}
			_, err := loadWith(t, tt.environ, files)
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Var != "TARGETS_FILE" {
				t.Fatalf("err = %v, want a TARGETS_FILE FieldError", err)
			}
			if !strings.HasPrefix(err.Error(), "TARGETS_FILE: /") || !strings.HasSuffix(err.Error(), tt.want) {
				t.Errorf("error %q\nwant TARGETS_FILE: <abs path>...%s", err, tt.want)
			}
		})
	}
	// A disabled default frees its name.
	c := mustLoad(t, map[string]string{"TARGETS_FILE": "t.yaml", "REDIS_ENABLED": "false"},
		map[string]string{"t.yaml": "targets: [{name: redis, type: redis, host: h}]"})
	if ts := c.Targets(); ts[len(ts)-1].ID() != "redis/redis" || ts[len(ts)-1].Host != "h" {
		t.Errorf("file target not used: %v", ts)
	}
}

func TestResolveTargets(t *testing.T) {
	c := mustLoad(t, map[string]string{"ELASTICSEARCH_ENABLED": "false", "MILVUS_ENABLED": "false", "NACOS_ENABLED": "false"}, nil)
	got, err := c.ResolveTargets([]byte("targets: [{name: extra, type: redis, host: h}]"))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, tg := range got {
		ids = append(ids, tg.ID())
	}
	if want := []string{"postgres/postgres", "redis/redis", "rabbitmq/rabbitmq", "redis/extra"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	if _, err := c.ResolveTargets([]byte("targets: [{name: postgres, type: postgres, host: h}]")); err == nil || !strings.Contains(err.Error(), "taken by the default postgres target") {
		t.Errorf("clash not rejected: %v", err)
	}
	if _, err := c.ResolveTargets([]byte("targets: [{name: x, type: redis}]")); err == nil {
		t.Error("invalid document accepted")
	}
	if len(c.Targets()) != 3 {
		t.Errorf("ResolveTargets modified the config: %v", c.Targets())
	}
}

// readFile is os.ReadFile, named for the helpers of other test files.
var readFile = os.ReadFile
