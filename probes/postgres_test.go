package probes

import (
	"context"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/testsupport/servers"
)

func localPostgres() Target {
	pg := servers.MachinePostgres()
	return Target{Kind: Postgres, Name: "local", Host: pg.Host(), Port: pg.Port(),
		Username: pg.User(), Password: secret.String(pg.Password()), Database: pg.Database(), Timeout: 5 * time.Second}
}

func TestPostgresUp(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's PostgreSQL server")
	}
	r, c, pf := requireUpFacts[PostgresFacts](t, OpenPostgres, localPostgres())
	if pf.Version == "" || pf.MaxConnections <= 0 || pf.ConnectionsInUse < 1 || pf.UptimeSeconds <= 0 {
		t.Fatalf("facts not filled in: %+v", pf)
	}
	if pf.InRecovery || pf.ReplicaLagSeconds != nil {
		t.Fatalf("the local server is a primary, got in_recovery=%v lag=%v", pf.InRecovery, pf.ReplicaLagSeconds)
	}
	if r.DetailsMap()["version"] != pf.Version {
		t.Fatalf("details version = %v, want %q", r.DetailsMap()["version"], pf.Version)
	}
	st := c.Stats()
	if st.Open < 1 || st.Acquires < 2 || st.Errors != 0 {
		t.Fatalf("stats after two probes = %+v", st)
	}
	t.Logf("details: %s", r.Details)
}

func TestPostgresWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway PostgreSQL")
	}
	const good, bad = "pg-Good-Secret-71", "pg-Wrong-Secret-93"
	srv := servers.StartPostgres(t, good)
	tg := Target{Kind: Postgres, Name: "throwaway", Host: srv.Host, Port: srv.Port,
		Username: srv.User, Password: secret.String(good), Database: srv.Database, Timeout: 5 * time.Second}
	requireOpenProbe(t, OpenPostgres, tg, StateUp, ErrKindNone)

	tg.Password = secret.String(bad)
	r, _ := requireAuthFailure(t, OpenPostgres, tg, good, bad)
	t.Logf("error: %s", r.Error)
}

func TestPostgresWatchNoticesStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway PostgreSQL")
	}
	const pw = "pg-Watch-Secret-55"
	srv := servers.StartPostgres(t, pw)
	tg := Target{Kind: Postgres, Name: "watched", Host: srv.Host, Port: srv.Port,
		Username: srv.User, Password: secret.String(pw), Database: srv.Database, Timeout: 2 * time.Second}
	c := openForTest(t, OpenPostgres, tg)
	requireProbe(t, tg, c, StateUp, ErrKindNone)
	lost := watchForTest(t, c)

	for round := 1; round <= 2; round++ {
		requireLossNoticed(t, round, lost, "the watch connection to LISTEN", func() bool {
			n, err := countListeners(tg)
			return err == nil && n == 1
		}, func() {
			if err := srv.StopImmediate(); err != nil {
				t.Fatal(err)
			}
		})
		requireRestartedUp(t, tg, c, srv.Start)
	}
	requireNoMoreLosses(t, lost)
}

// countListeners counts sessions of tg's server that ran LISTEN last.
func countListeners(tg Target) (int, error) {
	c, err := OpenPostgres(context.Background(), tg)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	pc := c.(*postgresClient)
	var n int
	err = pc.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'`).Scan(&n)
	return n, err
}
