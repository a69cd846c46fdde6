package probes

import (
	"bufio"
	"reflect"
	"strings"
	"testing"
)

func TestRedisFactsHealth(t *testing.T) {
	ok := RedisFacts{Role: "master", ConnectedClients: 10, MaxClients: 10000, UsedMemory: 1 << 20,
		RDBLastBgsaveStatus: "ok", AOFLastWriteStatus: "ok"}
	with := func(change func(*RedisFacts)) RedisFacts {
		f := ok
		change(&f)
		return f
	}
	runHealthCases(t, []HealthCase{
		{"healthy master", ok, Limits{}, StateUp, ""},
		{"loading", with(func(f *RedisFacts) { f.Loading = true }), Limits{}, StateDegraded, "loading the dataset"},
		{"clients at the ratio", with(func(f *RedisFacts) { f.ConnectedClients = 9000 }), Limits{}, StateUp, ""},
		{"clients above the ratio", with(func(f *RedisFacts) { f.ConnectedClients = 9001 }), Limits{}, StateDegraded, "connected clients 9001/10000 above 90%"},
		{"clients above a custom ratio", with(func(f *RedisFacts) { f.ConnectedClients = 5001 }), Limits{ConnRatio: 0.5}, StateDegraded, "above 50%"},
		{"maxclients unknown", with(func(f *RedisFacts) { f.MaxClients, f.ConnectedClients = 0, 99999 }), Limits{}, StateUp, ""},
		{"no maxmemory", with(func(f *RedisFacts) { f.UsedMemory = 1 << 40 }), Limits{}, StateUp, ""},
		{"memory under the ratio", with(func(f *RedisFacts) { f.UsedMemory, f.MaxMemory = 89, 100 }), Limits{}, StateUp, ""},
		{"memory above the ratio", with(func(f *RedisFacts) { f.UsedMemory, f.MaxMemory = 91, 100 }), Limits{}, StateDegraded, "used memory 91/100 bytes above 90%"},
		{"memory above a custom ratio", with(func(f *RedisFacts) { f.UsedMemory, f.MaxMemory = 71, 100 }), Limits{MemoryRatio: 0.7}, StateDegraded, "above 70%"},
		{"replica linked", with(func(f *RedisFacts) { f.Role, f.MasterLinkStatus = "slave", "up" }), Limits{}, StateUp, ""},
		{"replica link down", with(func(f *RedisFacts) { f.Role, f.MasterLinkStatus = "slave", "down" }), Limits{}, StateDegraded, "replica link to master is down"},
		{"replica link unknown", with(func(f *RedisFacts) { f.Role = "slave" }), Limits{}, StateDegraded, "is unknown"},
		{"rdb save failed", with(func(f *RedisFacts) { f.RDBLastBgsaveStatus = "err" }), Limits{}, StateDegraded, "last RDB save err"},
		{"aof write failed", with(func(f *RedisFacts) { f.AOFEnabled, f.AOFLastWriteStatus = true, "err" }), Limits{}, StateDegraded, "last AOF write err"},
		{"aof status ignored when off", with(func(f *RedisFacts) { f.AOFLastWriteStatus = "err" }), Limits{}, StateUp, ""},
		{"several", with(func(f *RedisFacts) { f.Loading, f.RDBLastBgsaveStatus = true, "err" }), Limits{}, StateDegraded, "loading the dataset; last RDB save err"},
	})
}

func TestRedisFactsFromInfo(t *testing.T) {
	info := "# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\nuptime_in_seconds:1234\r\n\r\n" +
		"# Clients\r\nconnected_clients:7\r\nmaxclients:10000\r\n\r\n" +
		"# Memory\r\nused_memory:1048576\r\nmaxmemory:0\r\nmaxmemory_policy:noeviction\r\n\r\n" +
		"# Persistence\r\nloading:0\r\nrdb_last_bgsave_status:ok\r\naof_enabled:0\r\naof_last_write_status:ok\r\n\r\n" +
		"# Stats\r\nrejected_connections:2\r\nevicted_keys:3\r\n\r\n" +
		"# Replication\r\nrole:slave\r\nmaster_host:10.0.0.1\r\nmaster_link_status:down\r\nconnected_slaves:0\r\n" +
		"garbage line\r\nmaxclients:not-a-number-is-ignored-below\r\n"
	got := redisFactsFromInfo(info)
	want := RedisFacts{Version: "7.0.15", Mode: "standalone", Role: "slave", UptimeSeconds: 1234,
		ConnectedClients: 7, MaxClients: 0, RejectedConnections: 2, UsedMemory: 1048576,
		MaxMemoryPolicy: "noeviction", EvictedKeys: 3, RDBLastBgsaveStatus: "ok",
		AOFLastWriteStatus: "ok", MasterLinkStatus: "down"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("facts =\n%+v\nwant\n%+v", got, want)
	}
}

func TestClassifyRedis(t *testing.T) {
	tests := []struct {
		reply string
		want  ErrorKind
	}{
		{"WRONGPASS invalid username-password pair or user is disabled.", ErrKindAuth},
		{"NOAUTH Authentication required.", ErrKindAuth},
		{"NOPERM this user has no permissions to run the 'info' command", ErrKindAuth},
		{"ERR invalid password", ErrKindAuth},
		{"ERR AUTH <password> called without any password configured for the default user.", ErrKindAuth},
		{"LOADING Redis is loading the dataset in memory", ErrKindUnavailable},
		{"MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.", ErrKindUnavailable},
		{"ERR unknown command 'INFO'", ErrKindProtocol},
		{"ERR max number of clients reached", ErrKindUnavailable},
	}
	for _, tt := range tests {
		if got := Classify(classifyRedis(respError(tt.reply))); got != tt.want {
			t.Errorf("%q: kind %q, want %q", tt.reply, got, tt.want)
		}
	}
}

func TestReadRESP(t *testing.T) {
	in := "+OK\r\n-WRONGPASS bad\r\n:42\r\n$5\r\nhello\r\n$-1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n"
	rd := bufio.NewReader(strings.NewReader(in))
	want := []any{"OK", respError("WRONGPASS bad"), int64(42), "hello", nil, []any{"subscribe", "c", int64(1)}}
	for i, w := range want {
		got, err := readRESP(rd)
		if err != nil || !reflect.DeepEqual(got, w) {
			t.Fatalf("reply %d = %#v, %v; want %#v", i, got, err, w)
		}
	}
	for _, bad := range []string{"?x\r\n", "$3\r\nabcd\r\n", "*99999\r\n", "+no-crlf\n", ":x\r\n", "$2000000\r\n"} {
		if _, err := readRESP(bufio.NewReader(strings.NewReader(bad))); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if got := string(appendRESP(nil, "AUTH", "p w")); got != "*2\r\n$4\r\nAUTH\r\n$3\r\np w\r\n" {
		t.Fatalf("appendRESP = %q", got)
	}
}

func FuzzReadRESP(f *testing.F) {
	f.Add("*2\r\n$4\r\npong\r\n$0\r\n\r\n")
	f.Add("*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		rd := bufio.NewReader(strings.NewReader(in))
		for range 8 {
			if _, err := readRESP(rd); err != nil {
				return
			}
		}
	})
}
