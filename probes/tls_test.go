package probes

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/testsupport/certs"
)

func TestParseTLSMode(t *testing.T) {
	for in, want := range map[string]TLSMode{
		"": TLSDefault, "disable": TLSDisable, "require": TLSRequire, "verify-ca": TLSVerifyCA,
		"Verify-Full": TLSVerifyFull, "true": TLSVerifyFull, "false": TLSDisable,
	} {
		if got, err := ParseTLSMode(in); err != nil || got != want {
			t.Errorf("ParseTLSMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"prefer", "allow", "yes", "verify"} {
		if _, err := ParseTLSMode(in); err == nil {
			t.Errorf("ParseTLSMode(%q) accepted", in)
		}
	}
}

func TestTLSClientConfigModes(t *testing.T) {
	cs := certs.New(t)
	for _, m := range []TLSMode{TLSDefault, TLSDisable} {
		if cfg, err := (TLS{Mode: m, CAFile: cs.CA}).ClientConfig("h"); cfg != nil || err != nil {
			t.Fatalf("%q: got %v, %v; want plain (nil)", m, cfg, err)
		}
	}
	req, err := TLS{Mode: TLSRequire}.ClientConfig("db.example")
	if err != nil || !req.InsecureSkipVerify || req.VerifyConnection != nil || req.ServerName != "db.example" {
		t.Fatalf("require: %+v, %v; want encryption without verification", req, err)
	}
	ca, err := TLS{Mode: TLSVerifyCA, CAFile: cs.CA}.ClientConfig("db.example")
	if err != nil || !ca.InsecureSkipVerify || ca.VerifyConnection == nil {
		t.Fatalf("verify-ca: %+v, %v; want the chain checked by VerifyConnection", ca, err)
	}
	full, err := TLS{Mode: TLSVerifyFull, CAFile: cs.CA, CertFile: cs.ClientCert, KeyFile: cs.ClientKey, ServerName: "other"}.ClientConfig("db.example")
	if err != nil || full.InsecureSkipVerify || full.RootCAs == nil || full.ServerName != "other" || len(full.Certificates) != 1 {
		t.Fatalf("verify-full: %+v, %v", full, err)
	}
	if full.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion = %x", full.MinVersion)
	}
}

func TestTLSClientConfigFileErrors(t *testing.T) {
	cs := certs.New(t)
	keyPEM, err := os.ReadFile(cs.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	tests := []struct {
		name  string
		s     TLS
		field string
	}{
		{"cert without key", TLS{Mode: TLSRequire, CertFile: cs.ClientCert}, "key_file"},
		{"key without cert", TLS{Mode: TLSRequire, KeyFile: cs.ClientKey}, "cert_file"},
		{"missing CA", TLS{Mode: TLSVerifyFull, CAFile: missing}, "ca_file"},
		{"CA not PEM", TLS{Mode: TLSVerifyFull, CAFile: notPEM}, "ca_file"},
		{"key not PEM", TLS{Mode: TLSRequire, CertFile: cs.ClientCert, KeyFile: notPEM}, "key_file"},
		{"key of another cert", TLS{Mode: TLSRequire, CertFile: cs.ServerCert, KeyFile: cs.ClientKey}, "key_file"},
		{"cert is a key", TLS{Mode: TLSRequire, CertFile: cs.ClientKey, KeyFile: cs.ClientKey}, "cert_file"},
	}
	for _, tt := range tests {
		_, err := tt.s.ClientConfig("h")
		var fe *TLSFileError
		if !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: error %v, want a %s error", tt.name, err, tt.field)
			continue
		}
		if strings.Contains(err.Error(), string(keyPEM[40:80])) {
			t.Errorf("%s: error quotes the key: %v", tt.name, err)
		}
	}
}
