package probes_test

import (
	"context"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/probes"
)

// Helpers of the tests against the hand-written fakes (Elasticsearch,
// Milvus, Nacos).

// requireTimesOutSoon probes target, whose server does not answer in time,
// through a new client: DOWN/timeout, well within 2s.
func requireTimesOutSoon(t *testing.T, open probes.Opener, target probes.Target) {
	t.Helper()
	r := probes.RequireOpenProbe(t, open, target, probes.StateDown, probes.ErrKindTimeout)
	if r.Latency >= 2*time.Second {
		t.Fatalf("probe took %v: not bounded by its %v timeout", r.Latency, target.Timeout)
	}
	t.Logf("timeout after %v", r.Latency)
}

// runLoginCases probes target, whose server takes user with the password
// good, as user with bad ("rejected": DOWN/auth, then checked further by
// rejected when not nil) and with good ("accepted": UP); neither password
// may show in the results.
func runLoginCases(t *testing.T, open probes.Opener, target probes.Target, user, good, bad string, rejected func(*testing.T, probes.Result)) {
	t.Helper()
	t.Run("rejected", func(t *testing.T) {
		tg := target
		tg.Username, tg.Password = user, secret.String(bad)
		r := probes.RequireOpenProbe(t, open, tg, probes.StateDown, probes.ErrKindAuth)
		assertNoSecret(t, r, bad)
		if rejected != nil {
			rejected(t, r)
		}
	})
	t.Run("accepted", func(t *testing.T) {
		tg := target
		tg.Username, tg.Password = user, secret.String(good)
		r := probes.RunProbe(context.Background(), tg, probes.OpenForTest(t, open, tg))
		if r.State != probes.StateUp {
			t.Fatalf("state %s kind %q (%s), want UP", r.State, r.ErrorKind, r.Error)
		}
		assertNoSecret(t, r, good)
	})
}
