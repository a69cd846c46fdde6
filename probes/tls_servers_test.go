package probes

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/certs"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// snakeoil is the machine PostgreSQL's certificate: self-signed, issued
// for localhost only.
const snakeoil = "/etc/ssl/certs/ssl-cert-snakeoil.pem"

func TestPostgresTLSModes(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's PostgreSQL server (ssl on)")
	}
	cs := certs.New(t)
	tests := []struct {
		name   string
		tls    TLS
		state  State
		kind   ErrorKind
		reason string
	}{
		{"disable is plain", TLS{Mode: TLSDisable}, StateUp, ErrKindNone, ""},
		{"require verifies nothing", TLS{Mode: TLSRequire}, StateUp, ErrKindNone, ""},
		{"verify-ca with the self-signed cert as CA", TLS{Mode: TLSVerifyCA, CAFile: snakeoil}, StateUp, ErrKindNone, ""},
		{"verify-full: the cert is for localhost, not 127.0.0.1", TLS{Mode: TLSVerifyFull, CAFile: snakeoil}, StateDown, ErrKindTLS, "127.0.0.1"},
		{"verify-full with the right server name", TLS{Mode: TLSVerifyFull, CAFile: snakeoil, ServerName: "localhost"}, StateUp, ErrKindNone, ""},
		{"verify-full, a CA that did not sign it", TLS{Mode: TLSVerifyFull, CAFile: cs.OtherCA, ServerName: "localhost"}, StateDown, ErrKindTLS, "unknown authority"},
		{"verify-ca, a CA that did not sign it", TLS{Mode: TLSVerifyCA, CAFile: cs.CA}, StateDown, ErrKindTLS, "unknown authority"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := localPostgres()
			tg.TLS = tt.tls
			c := openForTest(t, OpenPostgres, tg)
			r := requireProbe(t, tg, c, tt.state, tt.kind)
			if !strings.Contains(r.Error, tt.reason) {
				t.Fatalf("error %q does not name %q", r.Error, tt.reason)
			}
			if tt.state == StateUp {
				requireSSL(t, c, tt.tls.Enabled())
			}
		})
	}
}

// requireSSL checks whether the probe's own connection is encrypted.
func requireSSL(t *testing.T, c Client, want bool) {
	t.Helper()
	var ssl bool
	err := c.(*postgresClient).pool.QueryRow(context.Background(),
		"SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl)
	if err != nil {
		t.Fatal(err)
	}
	if ssl != want {
		t.Fatalf("connection ssl = %v, want %v", ssl, want)
	}
}

func TestPostgresVerifyNeverFallsBackToPlain(t *testing.T) {
	// A server that does not speak TLS at all (Redis answers the SSL
	// request with garbage, a silent listener with nothing): verify-full
	// must fail, never retry in plain text.
	srv := servers.StartRedis(t, "")
	tg := localPostgres()
	tg.Port, tg.TLS = srv.Port, TLS{Mode: TLSVerifyFull}
	tg.Timeout = 2 * time.Second
	cfg, err := postgresConfig(tg)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ConnConfig.TLSConfig == nil || len(cfg.ConnConfig.Fallbacks) != 0 {
		t.Fatalf("verify-full must have TLS and no fallback: tls %v, fallbacks %d", cfg.ConnConfig.TLSConfig != nil, len(cfg.ConnConfig.Fallbacks))
	}
	r := RunProbe(context.Background(), tg, openForTest(t, OpenPostgres, tg))
	if r.State != StateDown {
		t.Fatalf("state %s, want DOWN", r.State)
	}
}

func TestRedisTLSModes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts throwaway TLS redis-servers")
	}
	cs := certs.New(t)
	good := servers.StartRedisTLS(t, "", servers.RedisTLS{CertFile: cs.ServerCert, KeyFile: cs.ServerKey, CAFile: cs.CA})
	wrong := servers.StartRedisTLS(t, "", servers.RedisTLS{CertFile: cs.WrongHostCert, KeyFile: cs.WrongHostKey, CAFile: cs.CA})
	mutual := servers.StartRedisTLS(t, "", servers.RedisTLS{CertFile: cs.ServerCert, KeyFile: cs.ServerKey, CAFile: cs.CA, AuthClients: true})
	client := TLS{CertFile: cs.ClientCert, KeyFile: cs.ClientKey}
	with := func(s TLS, mode TLSMode, ca string) TLS { s.Mode, s.CAFile = mode, ca; return s }

	tests := []struct {
		name   string
		srv    *servers.Redis
		tls    TLS
		state  State
		kind   ErrorKind
		reason string
	}{
		{"verify-full", good, TLS{Mode: TLSVerifyFull, CAFile: cs.CA}, StateUp, ErrKindNone, ""},
		{"verify-full, wrong host name", wrong, TLS{Mode: TLSVerifyFull, CAFile: cs.CA}, StateDown, ErrKindTLS, "127.0.0.1"},
		{"verify-full, wrong host name, server_name given", wrong, TLS{Mode: TLSVerifyFull, CAFile: cs.CA, ServerName: "localhost"}, StateDown, ErrKindTLS, certs.WrongHost},
		{"verify-ca, wrong host name", wrong, TLS{Mode: TLSVerifyCA, CAFile: cs.CA}, StateUp, ErrKindNone, ""},
		{"verify-ca, other CA", good, TLS{Mode: TLSVerifyCA, CAFile: cs.OtherCA}, StateDown, ErrKindTLS, "unknown authority"},
		{"verify-full, system roots", good, TLS{Mode: TLSVerifyFull}, StateDown, ErrKindTLS, "unknown authority"},
		{"require, no CA", wrong, TLS{Mode: TLSRequire}, StateUp, ErrKindNone, ""},
		{"client cert required, none sent", mutual, TLS{Mode: TLSVerifyFull, CAFile: cs.CA}, StateDown, ErrKindTLS, "certificate"},
		{"client cert sent", mutual, with(client, TLSVerifyFull, cs.CA), StateUp, ErrKindNone, ""},
		{"plain against the TLS port", good, TLS{Mode: TLSDisable}, StateDown, ErrKindUnknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := Target{Kind: Redis, Name: "tls", Host: tt.srv.Host, Port: tt.srv.Port, Timeout: 3 * time.Second, TLS: tt.tls}
			r := RunProbe(context.Background(), tg, openForTest(t, OpenRedis, tg))
			if tt.kind == ErrKindUnknown { // any failure
				if r.State != StateDown {
					t.Fatalf("state %s (%s), want DOWN", r.State, r.Error)
				}
				t.Logf("plain against TLS: %s: %s", r.ErrorKind, r.Error)
				return
			}
			requireState(t, r, tt.state, tt.kind)
			if !strings.Contains(r.Error, tt.reason) {
				t.Fatalf("error %q does not name %q", r.Error, tt.reason)
			}
			if r.Error != "" {
				t.Logf("%s: %s", r.ErrorKind, r.Error)
			}
		})
	}
}

func TestRedisTLSAgainstPlainServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's Redis server")
	}
	// The plain server waits for the rest of a "command": the handshake
	// times out, and the error says what to suspect.
	tg := localRedis()
	tg.TLS, tg.Timeout = TLS{Mode: TLSRequire}, time.Second
	r := requireOpenProbe(t, OpenRedis, tg, StateDown, ErrKindTimeout)
	if !strings.Contains(r.Error, "speak TLS") {
		t.Fatalf("error %q gives no hint", r.Error)
	}
}

func TestPostgresClientCertificate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a throwaway PostgreSQL cluster")
	}
	const pw = "pg-Tls-Secret-23"
	cs := certs.New(t)
	srv := servers.StartPostgresTLS(t, pw, servers.PostgresTLS{CertFile: cs.ServerCert, KeyFile: cs.ServerKey, CAFile: cs.CA, RequireClientCert: true})
	base := Target{Kind: Postgres, Name: "mtls", Host: srv.Host, Port: srv.Port, Username: srv.User, Password: pw,
		Database: srv.Database, Timeout: 5 * time.Second}
	tests := []struct {
		name  string
		tls   TLS
		state State
		kind  ErrorKind
	}{
		{"verify-full with a client cert", TLS{Mode: TLSVerifyFull, CAFile: cs.CA, CertFile: cs.ClientCert, KeyFile: cs.ClientKey}, StateUp, ErrKindNone},
		{"no client cert", TLS{Mode: TLSVerifyFull, CAFile: cs.CA}, StateDown, ErrKindAuth},
		{"plain refused by pg_hba", TLS{Mode: TLSDisable}, StateDown, ErrKindAuth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := base
			tg.TLS = tt.tls
			r := requireOpenProbe(t, OpenPostgres, tg, tt.state, tt.kind)
			requireNoLeak(t, r, pw)
			if r.Error != "" {
				t.Logf("%s: %s", r.ErrorKind, r.Error)
			}
		})
	}
}
