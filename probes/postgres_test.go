package probes

import (
	"context"
	"testing"
	"time"
)

func TestPostgresUp(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's PostgreSQL server")
	}
	pf := requireUpFacts[PostgresFacts](t, OpenPostgres, localPostgres())
	if pf.Version == "" || pf.MaxConnections <= 0 || pf.ConnectionsInUse < 1 || pf.UptimeSeconds <= 0 {
		t.Fatalf("facts not filled in: %+v", pf)
	}
	if pf.InRecovery || pf.ReplicaLagSeconds != nil {
		t.Fatalf("the local server is a primary, got in_recovery=%v lag=%v", pf.InRecovery, pf.ReplicaLagSeconds)
	}
}

func TestPostgresWatchNoticesStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway PostgreSQL")
	}
	srv, tg := throwawayPostgres(t, "pg-Watch-Secret-55")
	tg.Name, tg.Timeout = "watched", 2*time.Second
	requireWatchedRestarts(t, OpenPostgres, tg, "the watch connection to LISTEN", func(Client) bool {
		n, err := countListeners(tg)
		return err == nil && n == 1
	}, func() {
		if err := srv.StopImmediate(); err != nil {
			t.Fatal(err)
		}
	}, srv.Start)
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
