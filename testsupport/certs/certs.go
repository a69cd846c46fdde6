// Package certs generates throwaway TLS material for tests: a CA, server
// certificates it signs (one for 127.0.0.1/localhost, one for a wrong host
// name), a client certificate, and an unrelated CA, written as PEM files
// into the test's temporary directory.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// WrongHost is the only name the wrong-host server certificate is valid for.
const WrongHost = "wrong-host.invalid"

// Set is the paths of the generated PEM files.
type Set struct {
	// Dir holds every file.
	Dir string
	// CA is the certificate of the CA that signed the three below.
	CA string
	// ServerCert and ServerKey: a server certificate for 127.0.0.1, ::1
	// and localhost.
	ServerCert, ServerKey string
	// WrongHostCert and WrongHostKey: a server certificate signed by CA,
	// valid only for WrongHost.
	WrongHostCert, WrongHostKey string
	// ClientCert and ClientKey: a client certificate signed by CA.
	ClientCert, ClientKey string
	// OtherCA is a CA that signed none of these.
	OtherCA string
}

// New generates a Set in t.TempDir(). Key files are mode 0600.
func New(t testing.TB) *Set {
	t.Helper()
	dir := t.TempDir()
	s := &Set{Dir: dir}
	ca, caKey := newCA(t, "dbhealth test CA")
	s.CA = writeCert(t, dir, "ca.pem", ca)
	other, _ := newCA(t, "dbhealth unrelated CA")
	s.OtherCA = writeCert(t, dir, "other-ca.pem", other)

	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "localhost"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	s.ServerCert, s.ServerKey = issue(t, dir, "server", server, ca, caKey)
	wrong := &x509.Certificate{
		Subject:     pkix.Name{CommonName: WrongHost},
		DNSNames:    []string{WrongHost},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	s.WrongHostCert, s.WrongHostKey = issue(t, dir, "wrong-host", wrong, ca, caKey)
	client := &x509.Certificate{
		Subject:     pkix.Name{CommonName: "database-service"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	s.ClientCert, s.ClientKey = issue(t, dir, "client", client, ca, caKey)
	return s
}

// newCA makes a self-signed CA certificate.
func newCA(t testing.TB, name string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("certs: CA: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("certs: CA: %v", err)
	}
	return cert, key
}

// issue signs tmpl with the CA and writes <name>.pem and <name>.key.
func issue(t testing.TB, dir, name string, tmpl, ca *x509.Certificate, caKey *ecdsa.PrivateKey) (certPath, keyPath string) {
	t.Helper()
	key := newKey(t)
	tmpl.SerialNumber = serial(t)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(24 * time.Hour)
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatalf("certs: %s: %v", name, err)
	}
	certPath = writePEM(t, dir, name+".pem", "CERTIFICATE", der, 0o644)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("certs: %s key: %v", name, err)
	}
	keyPath = writePEM(t, dir, name+".key", "PRIVATE KEY", kder, 0o600)
	return certPath, keyPath
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("certs: key: %v", err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("certs: serial: %v", err)
	}
	return n
}

func writeCert(t testing.TB, dir, name string, c *x509.Certificate) string {
	t.Helper()
	return writePEM(t, dir, name, "CERTIFICATE", c.Raw, 0o644)
}

func writePEM(t testing.TB, dir, name, typ string, der []byte, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), mode); err != nil {
		t.Fatalf("certs: write %s: %v", name, err)
	}
	return path
}

// ServerConfig is a server-side *tls.Config presenting certFile/keyFile
// (HTTP/2 and HTTP/1.1 offered, as gRPC and net/http servers need).
func ServerConfig(t testing.TB, certFile, keyFile string) *tls.Config {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatalf("certs: load %s: %v", certFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}, MinVersion: tls.VersionTLS12}
}
