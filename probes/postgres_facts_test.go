package probes

import (
	"strings"
	"testing"
	"time"
)

func TestPostgresFactsHealth(t *testing.T) {
	lag := func(s float64) *float64 { return &s }
	runHealthCases(t, []HealthCase{
		{"idle primary", PostgresFacts{ConnectionsInUse: 3, MaxConnections: 100}, Limits{}, StateUp, ""},
		{"at the default ratio", PostgresFacts{ConnectionsInUse: 90, MaxConnections: 100}, Limits{}, StateUp, ""},
		{"above the default ratio", PostgresFacts{ConnectionsInUse: 91, MaxConnections: 100}, Limits{}, StateDegraded, "connections in use 91/100 above 90%"},
		{"custom ratio", PostgresFacts{ConnectionsInUse: 51, MaxConnections: 100}, Limits{ConnRatio: 0.5}, StateDegraded, "above 50%"},
		{"unknown max", PostgresFacts{ConnectionsInUse: 5}, Limits{}, StateUp, ""},
		{"replica in sync", PostgresFacts{InRecovery: true, ReplicaLagSeconds: lag(0), MaxConnections: 100}, Limits{}, StateUp, ""},
		{"replica lag under the default", PostgresFacts{InRecovery: true, ReplicaLagSeconds: lag(29.9), MaxConnections: 100}, Limits{}, StateUp, ""},
		{"replica lag over the default", PostgresFacts{InRecovery: true, ReplicaLagSeconds: lag(31), MaxConnections: 100}, Limits{}, StateDegraded, "replica lag 31.0s above 30s"},
		{"replica lag over a custom limit", PostgresFacts{InRecovery: true, ReplicaLagSeconds: lag(6), MaxConnections: 100}, Limits{ReplicaLag: 5 * time.Second}, StateDegraded, "above 5s"},
		{"replica lag unknown", PostgresFacts{InRecovery: true, MaxConnections: 100}, Limits{}, StateUp, ""},
		{"lag ignored on a primary", PostgresFacts{ReplicaLagSeconds: lag(100), MaxConnections: 100}, Limits{}, StateUp, ""},
		{"both", PostgresFacts{InRecovery: true, ReplicaLagSeconds: lag(60), ConnectionsInUse: 99, MaxConnections: 100}, Limits{}, StateDegraded, "connections in use 99/100 above 90%; replica lag 60.0s above 30s"},
	})
}

func TestPostgresConfigKeepsPasswordOutOfDSN(t *testing.T) {
	tg := Target{Host: "db.example", Port: 5433, Username: "o'brien", Database: `my db\x`, Password: "s3cret pass'word", TLS: TLS{Mode: TLSRequire}}
	cfg, err := postgresConfig(tg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ConnConfig.Password != "s3cret pass'word" {
		t.Fatalf("password = %q", cfg.ConnConfig.Password)
	}
	if strings.Contains(cfg.ConnString(), "s3cret") {
		t.Fatalf("connection string holds the password: %s", cfg.ConnString())
	}
	if cfg.ConnConfig.User != "o'brien" || cfg.ConnConfig.Database != `my db\x` || cfg.ConnConfig.Port != 5433 {
		t.Fatalf("quoting lost a value: user %q db %q port %d", cfg.ConnConfig.User, cfg.ConnConfig.Database, cfg.ConnConfig.Port)
	}
	if cfg.ConnConfig.TLSConfig == nil || len(cfg.ConnConfig.Fallbacks) != 0 {
		t.Fatal("TLS target must require TLS with no plain fallback")
	}
	if cfg.MaxConns != postgresMaxConns {
		t.Fatalf("MaxConns = %d", cfg.MaxConns)
	}
}
