// Package cluster runs database-service deployments for tests: replicas
// in-process (Cluster, Replica) or as processes of the built binary (Proc),
// each deployment isolated on the machine's RabbitMQ and Redis by a unique
// exchange, service name (queue prefix) and key prefix, and cleaned up
// after the test.
package cluster

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// The machine's RabbitMQ and Redis (TEST_RABBITMQ_URL, TEST_REDIS_ADDR
// override them).
var (
	RabbitMQ = servers.MachineRabbitMQ()
	Redis    = servers.MachineRedis()
)

// Cluster is an isolated deployment on the machine's RabbitMQ and Redis.
type Cluster struct {
	t  *testing.T
	ID string
	// Exchange, Service and Prefix are BUS_EXCHANGE, DB_SERVICE_NAME and
	// STORE_KEY_PREFIX of every replica.
	Exchange, Service, Prefix string
	// Dir is the deployment's directory (targets files, data, logs).
	Dir    string
	groups []string // consumer groups whose queues to delete
}

// New is a fresh deployment, removed from the broker and the store when
// the test ends. It skips the test under -short.
func New(t *testing.T) *Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs the machine's RabbitMQ and Redis")
	}
	id := fmt.Sprintf("%x", rand.Uint32())
	c := &Cluster{t: t, ID: id, Exchange: "test-dbh-" + id, Service: "test-svc-" + id, Prefix: "test-dbsvc-" + id, Dir: t.TempDir(),
		groups: []string{"checks", "status", "alerts", "notify"}}
	t.Cleanup(c.cleanup)
	return c
}

func (c *Cluster) cleanup() {
	conn, err := amqp.Dial(RabbitMQ.URL())
	if err == nil {
		ch, err := conn.Channel()
		if err == nil {
			for _, q := range append([]string{c.Exchange + ".unrouted", c.Service + ".poison"}, c.GroupQueues()...) {
				_, _ = ch.QueueDelete(q, false, false, false)
			}
			for _, x := range []string{c.Exchange, c.Exchange + ".unrouted", c.Service + ".dlx"} {
				_ = ch.ExchangeDelete(x, false, false)
			}
		}
		_ = conn.Close()
	}
	rdb := redis.NewClient(&redis.Options{Addr: Redis.Addr()})
	defer rdb.Close()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, c.Prefix+":*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}

// GroupQueues are the names of the shared consumer groups' queues.
func (c *Cluster) GroupQueues() []string {
	out := make([]string, len(c.groups))
	for i, g := range c.groups {
		out[i] = c.Service + "." + g
	}
	return out
}

// BaseEnv is the environment of replica id of service: test mode, every
// default target and the registration off. Callers add the bus, the store
// and the targets.
func BaseEnv(service, replica string) map[string]string {
	return map[string]string{
		"APP_ENV":               "test",
		"DB_SERVICE_NAME":       service,
		"REPLICA_ID":            replica,
		"POSTGRES_ENABLED":      "false",
		"ELASTICSEARCH_ENABLED": "false",
		"MILVUS_ENABLED":        "false",
		"REDIS_ENABLED":         "false",
		"NACOS_ENABLED":         "false",
		"RABBITMQ_ENABLED":      "false",
		"REGISTRY_ENABLED":      "false",
	}
}

// Env is the environment of one replica reaching RabbitMQ and Redis at the
// given addresses (proxies, so tests can cut them), plus extra.
func (c *Cluster) Env(replica, rabbit, store string, extra map[string]string) map[string]string {
	e := BaseEnv(c.Service, replica)
	e["BUS_URL"] = RabbitMQ.Via(rabbit).URL()
	e["BUS_EXCHANGE"] = c.Exchange
	e["STORE_URL"] = "redis://" + store + "/0"
	e["STORE_KEY_PREFIX"] = c.Prefix
	e["DATA_DIR"] = filepath.Join(c.Dir, "data-"+replica)
	for k, v := range extra {
		e[k] = v
	}
	return e
}

// WriteTargets writes a targets file and returns its path.
func (c *Cluster) WriteTargets(yaml string) string {
	c.t.Helper()
	p := filepath.Join(c.Dir, fmt.Sprintf("targets-%d.yaml", rand.Int()))
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// Load is the configuration of env, failing the test when it is invalid.
func (c *Cluster) Load(env map[string]string) *config.Config {
	c.t.Helper()
	cfg, err := config.Load(config.LoadOptions{Environ: env, Dir: c.Dir})
	if err != nil {
		c.t.Fatalf("config: %v", err)
	}
	return cfg
}
