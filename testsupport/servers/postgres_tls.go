package servers

import (
	"os"
	"path/filepath"
	"testing"
)

// PostgresTLS turns TLS on in a throwaway PostgreSQL cluster.
type PostgresTLS struct {
	// CertFile and KeyFile are the server's certificate and key; CAFile
	// verifies client certificates.
	CertFile, KeyFile, CAFile string
	// RequireClientCert accepts only TLS connections from 127.0.0.1 that
	// present a client certificate signed by CAFile (pg_hba
	// clientcert=verify-ca), with the password as well.
	RequireClientCert bool
}

// StartPostgresTLS is StartPostgres with ssl=on and cfg's files. Without
// RequireClientCert both plain and TLS connections are accepted.
func StartPostgresTLS(t testing.TB, password string, cfg PostgresTLS) *Postgres {
	t.Helper()
	return startPostgres(t, password, &cfg)
}

// setupTLS copies cfg's files into the cluster directory (the server must
// own its key, mode 0600) and writes pg_hba.conf when client certificates
// are required.
func (p *Postgres) setupTLS(cfg PostgresTLS) {
	p.t.Helper()
	files := map[string]string{"server.crt": cfg.CertFile, "server.key": cfg.KeyFile, "root.crt": cfg.CAFile}
	for name, src := range files {
		b, err := os.ReadFile(src)
		if err != nil {
			p.t.Fatalf("servers: postgres tls: %v", err)
		}
		p.writeOwned(filepath.Join(p.dir, name), b)
	}
	p.ssl = []string{"ssl=on",
		"ssl_cert_file=" + filepath.Join(p.dir, "server.crt"),
		"ssl_key_file=" + filepath.Join(p.dir, "server.key"),
		"ssl_ca_file=" + filepath.Join(p.dir, "root.crt")}
	if cfg.RequireClientCert {
		hba := "local all all scram-sha-256\nhostssl all all 127.0.0.1/32 scram-sha-256 clientcert=verify-ca\n"
		p.writeOwned(filepath.Join(p.dataDir(), "pg_hba.conf"), []byte(hba))
	}
}

// writeOwned writes a 0600 file owned by the user the server runs as.
func (p *Postgres) writeOwned(path string, b []byte) {
	p.t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		p.t.Fatalf("servers: postgres tls: %v", err)
	}
	if p.asUser != nil {
		if err := chownTo(p.asUser, path); err != nil {
			p.t.Fatalf("servers: postgres tls chown: %v", err)
		}
	}
}
