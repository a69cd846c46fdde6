package probes

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/testsupport/servers"
)

func localRedis() Target {
	rd := servers.MachineRedis()
	return Target{Kind: Redis, Name: "local", Host: rd.Host(), Port: rd.Port(), Timeout: 5 * time.Second}
}

func TestRedisUp(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's Redis server")
	}
	r, c, rf := requireUpFacts[RedisFacts](t, OpenRedis, localRedis())
	if rf.Version == "" || rf.Role == "" || rf.ConnectedClients < 1 || rf.MaxClients <= 0 || rf.UsedMemory <= 0 || rf.UptimeSeconds <= 0 {
		t.Fatalf("facts not filled in: %+v", rf)
	}
	if r.DetailsMap()["version"] != rf.Version {
		t.Fatalf("details version = %v, want %q", r.DetailsMap()["version"], rf.Version)
	}
	if st := c.Stats(); st.Open < 1 || st.Acquires < 2 || st.Errors != 0 {
		t.Fatalf("stats after two probes = %+v", st)
	}
	t.Logf("details: %s", r.Details)
}

func TestRedisWrongPassword(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway redis-server")
	}
	const good, bad = "redis-Good-Secret-42", "redis-Wrong-Secret-17"
	srv := servers.StartRedis(t, good)
	tg := Target{Kind: Redis, Name: "throwaway", Host: srv.Host, Port: srv.Port,
		Password: secret.String(good), Timeout: 5 * time.Second}
	requireOpenProbe(t, OpenRedis, tg, StateUp, ErrKindNone)

	for name, pw := range map[string]string{"wrong password": bad, "no password": ""} {
		t.Run(name, func(t *testing.T) {
			tg.Password = secret.String(pw)
			r, _ := requireAuthFailure(t, OpenRedis, tg, good, bad)
			t.Logf("%s: %s", name, r.Error)
		})
	}
}

func TestRedisWatchNoticesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway redis-server")
	}
	const pw = "redis-Watch-Secret-88"
	srv := servers.StartRedis(t, pw)
	tg := Target{Kind: Redis, Name: "watched", Host: srv.Host, Port: srv.Port,
		Password: secret.String(pw), Timeout: 2 * time.Second}
	c := openForTest(t, OpenRedis, tg)
	requireProbe(t, tg, c, StateUp, ErrKindNone)
	lost := watchForTest(t, c)

	for round := 1; round <= 2; round++ {
		requireLossNoticed(t, round, lost, "the connection to be held", c.(*redisClient).connected, srv.Kill)
		requireRestartedUp(t, tg, c, srv.Start)
	}
	requireNoMoreLosses(t, lost)
}

func TestRedisMaxClients(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway redis-server")
	}
	srv := servers.StartRedis(t, "")
	tg := Target{Kind: Redis, Name: "full", Host: srv.Host, Port: srv.Port, Timeout: 2 * time.Second}
	admin := openForTest(t, OpenRedis, tg).(*redisClient)
	ctx := context.Background()
	rc, _, err := admin.connection(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.do(ctx, appendRESP(nil, "CONFIG", "SET", "maxclients", "1"), 1); err != nil {
		t.Fatal(err)
	}
	// The held connection is the one client allowed: a new one is refused
	// with "max number of clients reached" right after the accept.
	r := RunProbe(ctx, tg, openForTest(t, OpenRedis, tg))
	requireState(t, r, StateDown, ErrKindUnavailable)
	if !strings.Contains(r.Error, "max number of clients") {
		t.Fatalf("error %q does not say why", r.Error)
	}
}
