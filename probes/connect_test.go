package probes

import (
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// The kinds probed against real servers: the machine's own, or throwaway
// ones a test starts. What their tests share runs here as tables over the
// kinds.

// machineTarget is a target of the machine's server of kind at e, logged
// into as e says.
func machineTarget(kind Kind, e servers.Endpoint) Target {
	return Target{Kind: kind, Name: "local", Host: e.Host(), Port: e.Port(),
		Username: e.User(), Password: secret.String(e.Password()), Database: e.Database(), Timeout: 5 * time.Second}
}

func localPostgres() Target { return machineTarget(Postgres, servers.MachinePostgres()) }
func localRedis() Target    { return machineTarget(Redis, servers.MachineRedis()) }
func localRabbitMQ() Target { return machineTarget(RabbitMQ, servers.MachineRabbitMQ()) }

// throwawayPostgres starts a PostgreSQL of the test's own with password and
// returns it with its target.
func throwawayPostgres(t *testing.T, password string) (*servers.Postgres, Target) {
	srv := servers.StartPostgres(t, password)
	return srv, Target{Kind: Postgres, Name: "throwaway", Host: srv.Host, Port: srv.Port,
		Username: srv.User, Password: secret.String(password), Database: srv.Database, Timeout: 5 * time.Second}
}

// throwawayRedis starts a redis-server of the test's own with password (""
// for none) and returns it with its target.
func throwawayRedis(t *testing.T, password string) (*servers.Redis, Target) {
	srv := servers.StartRedis(t, password)
	return srv, Target{Kind: Redis, Name: "throwaway", Host: srv.Host, Port: srv.Port,
		Password: secret.String(password), Timeout: 5 * time.Second}
}

// TestConnectFailures runs the connection checks of each kind against the
// machine's servers: a refused port, a silent listener (a timeout close to
// the probe's own deadline) and an Open that does not connect yet.
func TestConnectFailures(t *testing.T) {
	for _, k := range []struct {
		open   Opener
		target Target
	}{
		{OpenPostgres, localPostgres()},
		{OpenRedis, localRedis()},
		{OpenRabbitMQ, localRabbitMQ()},
	} {
		t.Run(string(k.target.Kind), func(t *testing.T) {
			t.Run("refused", func(t *testing.T) {
				tg := k.target
				tg.Port = servers.FreePort(t)
				requireOpenProbe(t, k.open, tg, StateDown, ErrKindRefused)
			})
			t.Run("timeout", func(t *testing.T) { requireTimeoutWithin(t, k.open, k.target) })
			t.Run("open does not connect", func(t *testing.T) { requireNoConnectionOnOpen(t, k.open, k.target) })
		})
	}
}

// TestWrongPassword starts a throwaway server of each kind with a password,
// probes it UP with that password, then requires DOWN/auth with wrong ones
// and neither password in the results.
func TestWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway PostgreSQL and redis-server")
	}
	for _, k := range []struct {
		open      Opener
		start     func(t *testing.T, password string) Target
		good, bad string
		wrong     map[string]string // name: the password tried
	}{
		{OpenPostgres, func(t *testing.T, pw string) Target { _, tg := throwawayPostgres(t, pw); return tg },
			"pg-Good-Secret-71", "pg-Wrong-Secret-93", map[string]string{"wrong password": "pg-Wrong-Secret-93"}},
		{OpenRedis, func(t *testing.T, pw string) Target { _, tg := throwawayRedis(t, pw); return tg },
			"redis-Good-Secret-42", "redis-Wrong-Secret-17", map[string]string{"wrong password": "redis-Wrong-Secret-17", "no password": ""}},
	} {
		tg := k.start(t, k.good)
		t.Run(string(tg.Kind), func(t *testing.T) {
			requireOpenProbe(t, k.open, tg, StateUp, ErrKindNone)
			for name, pw := range k.wrong {
				t.Run(name, func(t *testing.T) {
					tg.Password = secret.String(pw)
					r, _ := requireAuthFailure(t, k.open, tg, k.good, k.bad)
					t.Logf("error: %s", r.Error)
				})
			}
		})
	}
}
