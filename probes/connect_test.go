package probes

import (
	"testing"

	"github.com/dbhealth/database-service/testsupport/servers"
)

// TestConnectFailures runs the connection checks the kinds probed against
// the machine's servers share: a refused port, a silent listener (a
// timeout close to the probe's own deadline) and an Open that does not
// connect yet.
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
