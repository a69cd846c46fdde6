package servers

import (
	"net/url"
	"os"
	"strconv"
	"strings"
)

// The environment variables that point tests at servers other than the
// machine's own, and what the tests use when they are not set.
const (
	// RabbitMQEnv holds an AMQP URL (user, password and vhost included).
	RabbitMQEnv     = "TEST_RABBITMQ_URL"
	defaultRabbitMQ = "amqp://guest:guest@127.0.0.1:5672/"
	// RedisEnv holds a Redis host:port (no password).
	RedisEnv     = "TEST_REDIS_ADDR"
	defaultRedis = "127.0.0.1:6379"
	// PostgresEnv holds a PostgreSQL URL (postgres://user[:password]@host:port/db).
	PostgresEnv     = "TEST_POSTGRES_DSN"
	defaultPostgres = "postgres://postgres@127.0.0.1:5432/test"
)

// Endpoint is one of the shared servers the tests talk to: where it
// listens and how to log in.
type Endpoint struct {
	u url.URL
}

// MachineRabbitMQ is the machine's RabbitMQ ($TEST_RABBITMQ_URL overrides).
func MachineRabbitMQ() Endpoint { return endpoint(RabbitMQEnv, defaultRabbitMQ) }

// MachineRedis is the machine's Redis ($TEST_REDIS_ADDR overrides).
func MachineRedis() Endpoint {
	addr := os.Getenv(RedisEnv)
	if addr == "" {
		addr = defaultRedis
	}
	return Endpoint{u: url.URL{Scheme: "redis", Host: addr}}
}

// MachinePostgres is the machine's PostgreSQL ($TEST_POSTGRES_DSN
// overrides).
func MachinePostgres() Endpoint { return endpoint(PostgresEnv, defaultPostgres) }

func endpoint(env, def string) Endpoint {
	raw := os.Getenv(env)
	if raw == "" {
		raw = def
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		panic("servers: " + env + " is not a URL with a host: " + raw)
	}
	return Endpoint{u: *u}
}

// Addr is host:port of the server.
func (e Endpoint) Addr() string { return e.u.Host }

// Host is the server's host.
func (e Endpoint) Host() string { return e.u.Hostname() }

// Port is the server's port.
func (e Endpoint) Port() int {
	p, _ := strconv.Atoi(e.u.Port())
	return p
}

// User is the user name to log in with ("" for none).
func (e Endpoint) User() string { return e.u.User.Username() }

// Password is the password to log in with ("" for none).
func (e Endpoint) Password() string {
	p, _ := e.u.User.Password()
	return p
}

// Database is the PostgreSQL database (the URL's path without its slash).
func (e Endpoint) Database() string { return strings.TrimPrefix(e.u.Path, "/") }

// URL is the server's URL, login included.
func (e Endpoint) URL() string { return e.u.String() }

// Via is e reached at addr (host:port), e.g. through a Proxy; the login
// stays.
func (e Endpoint) Via(addr string) Endpoint {
	e.u.Host = addr
	return e
}

// WithPassword is e logging in with password instead.
func (e Endpoint) WithPassword(password string) Endpoint {
	e.u.User = url.UserPassword(e.User(), password)
	return e
}
