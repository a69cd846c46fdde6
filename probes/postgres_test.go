package probes

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/testsupport/servers"
	"github.com/dbhealth/database-service/testsupport/wait"
)

func localPostgres() Target {
	pg := servers.MachinePostgres()
	return Target{Kind: Postgres, Name: "local", Host: pg.Host(), Port: pg.Port(),
		Username: pg.User(), Password: secret.String(pg.Password()), Database: pg.Database(), Timeout: 5 * time.Second}
}

// openForTest opens a client with open and closes it in t.Cleanup.
func openForTest(t *testing.T, open Opener, tg Target) Client {
	t.Helper()
	c, err := open(context.Background(), tg)
	if err != nil {
		t.Fatalf("open %s: %v", tg, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// requireNoLeak fails when any secret appears in the error, the reason or
// the JSON of the details of r.
func requireNoLeak(t *testing.T, r Result, secrets ...string) {
	t.Helper()
	details, err := json.Marshal(r.DetailsMap())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		for field, v := range map[string]string{"Error": r.Error, "Reason": r.Reason, "Details": string(details)} {
			if strings.Contains(v, s) {
				t.Errorf("%s contains the password %q: %s", field, s, v)
			}
		}
	}
}

// requireState fails unless r has the state and error kind.
func requireState(t *testing.T, r Result, state State, kind ErrorKind) {
	t.Helper()
	if r.State != state || r.ErrorKind != kind {
		t.Fatalf("got %s/%q (reason %q, error %q), want %s/%q", r.State, r.ErrorKind, r.Reason, r.Error, state, kind)
	}
}

// requireTimeoutWithin probes a silent listener and checks the probe gives
// up as a timeout close to its own deadline.
func requireTimeoutWithin(t *testing.T, open Opener, tg Target) {
	t.Helper()
	s := servers.StartSilent(t)
	tg.Host, tg.Port, tg.Timeout = s.Host, s.Port, 300*time.Millisecond
	c := openForTest(t, open, tg)
	start := time.Now()
	r := RunProbe(context.Background(), tg, c)
	took := time.Since(start)
	requireState(t, r, StateDown, ErrKindTimeout)
	if took > 2*tg.Timeout {
		t.Fatalf("probe took %v, want about its %v timeout", took, tg.Timeout)
	}
	if s.Accepted() == 0 {
		t.Fatal("the probe never reached the silent listener")
	}
}

// watchForTest runs c's Watch until the test ends and counts losses on the
// returned channel.
func watchForTest(t *testing.T, c Client) <-chan string {
	t.Helper()
	w, ok := c.(Watcher)
	if !ok {
		t.Fatalf("%T does not implement Watcher", c)
	}
	lost := make(chan string, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Watch(ctx, func(reason string) { lost <- reason })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Watch did not return after its context was cancelled")
		}
	})
	return lost
}

// waitLost waits for one loss and returns how long it took since start.
func waitLost(t *testing.T, lost <-chan string, start time.Time) time.Duration {
	t.Helper()
	select {
	case reason := <-lost:
		took := time.Since(start)
		t.Logf("lost after %v: %s", took.Round(100*time.Microsecond), reason)
		return took
	case <-time.After(10 * time.Second):
		t.Fatal("lost was not called within 10s")
	}
	return 0
}

func TestPostgresUp(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's PostgreSQL server")
	}
	tg := localPostgres()
	c := openForTest(t, OpenPostgres, tg)
	r := RunProbe(context.Background(), tg, c)
	requireState(t, r, StateUp, ErrKindNone)
	f, err := c.Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	pf := f.(PostgresFacts)
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

	r := RunProbe(context.Background(), tg, openForTest(t, OpenPostgres, tg))
	requireState(t, r, StateUp, ErrKindNone)

	tg.Password = secret.String(bad)
	c := openForTest(t, OpenPostgres, tg)
	r = RunProbe(context.Background(), tg, c)
	requireState(t, r, StateDown, ErrKindAuth)
	requireNoLeak(t, r, good, bad)
	if c.Stats().Errors != 1 {
		t.Fatalf("errors = %d, want 1", c.Stats().Errors)
	}
	t.Logf("error: %s", r.Error)
}

func TestPostgresRefused(t *testing.T) {
	tg := localPostgres()
	tg.Port = servers.FreePort(t)
	r := RunProbe(context.Background(), tg, openForTest(t, OpenPostgres, tg))
	requireState(t, r, StateDown, ErrKindRefused)
}

func TestPostgresTimeout(t *testing.T) {
	requireTimeoutWithin(t, OpenPostgres, localPostgres())
}

func TestPostgresOpenDoesNotConnect(t *testing.T) {
	requireNoConnectionOnOpen(t, OpenPostgres, localPostgres())
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
	requireState(t, RunProbe(context.Background(), tg, c), StateUp, ErrKindNone)
	lost := watchForTest(t, c)

	for round := 1; round <= 2; round++ {
		wait.Eventually(t, 10*time.Second, "the watch connection to LISTEN", wait.Bool(func() bool {
			n, err := countListeners(tg)
			return err == nil && n == 1
		}))
		start := time.Now()
		if err := srv.StopImmediate(); err != nil {
			t.Fatal(err)
		}
		took := waitLost(t, lost, start)
		if took > 2*time.Second {
			t.Errorf("round %d: loss noticed after %v, want well under 2s", round, took)
		}
		requireState(t, RunProbe(context.Background(), tg, c), StateDown, ErrKindRefused)
		srv.Start()
		wait.Eventually(t, 10*time.Second, "the restarted server to probe UP", wait.Bool(func() bool {
			return RunProbe(context.Background(), tg, c).State == StateUp
		}))
	}
	select {
	case reason := <-lost:
		t.Fatalf("lost called again without a loss: %s", reason)
	case <-time.After(300 * time.Millisecond):
	}
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

// requireNoConnectionOnOpen checks that open makes no connection before
// the first probe (clients are opened lazily).
func requireNoConnectionOnOpen(t *testing.T, open Opener, tg Target) {
	t.Helper()
	s := servers.StartSilent(t)
	tg.Host, tg.Port = s.Host, s.Port
	openForTest(t, open, tg)
	time.Sleep(50 * time.Millisecond)
	if n := s.Accepted(); n != 0 {
		t.Fatalf("%s: Open made %d connections, want none before the first probe", tg.Kind, n)
	}
}
