package probes

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestRedisUp(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's Redis server")
	}
	rf := requireUpFacts[RedisFacts](t, OpenRedis, localRedis())
	if rf.Version == "" || rf.Role == "" || rf.ConnectedClients < 1 || rf.MaxClients <= 0 || rf.UsedMemory <= 0 || rf.UptimeSeconds <= 0 {
		t.Fatalf("facts not filled in: %+v", rf)
	}
}

func TestRedisWatchNoticesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway redis-server")
	}
	srv, tg := throwawayRedis(t, "redis-Watch-Secret-88")
	tg.Name, tg.Timeout = "watched", 2*time.Second
	requireWatchedRestarts(t, OpenRedis, tg, "the connection to be held",
		func(c Client) bool { return c.(*redisClient).connected() }, srv.Kill, srv.Start)
}

func TestRedisMaxClients(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway redis-server")
	}
	_, tg := throwawayRedis(t, "")
	tg.Name, tg.Timeout = "full", 2*time.Second
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
