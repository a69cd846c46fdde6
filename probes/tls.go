package probes

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// TLSMode says whether a probe encrypts its connection and what it checks
// of the server's certificate. The names are libpq's sslmode values.
type TLSMode string

// The TLS modes. The zero TLSMode is the kind's default: plain text, except
// for an Elasticsearch target with an https:// address (TLSVerifyFull).
const (
	TLSDefault TLSMode = ""
	// TLSDisable connects in plain text.
	TLSDisable TLSMode = "disable"
	// TLSRequire encrypts the connection but verifies nothing: any
	// certificate is accepted, so it protects against a passive
	// eavesdropper only, not against an active attacker in the middle.
	TLSRequire TLSMode = "require"
	// TLSVerifyCA verifies that the server's certificate chains to the CA
	// file (the system roots when none is given), but not the host name
	// it was issued for.
	TLSVerifyCA TLSMode = "verify-ca"
	// TLSVerifyFull verifies the chain and that the certificate was issued
	// for the host connected to (or TLS.ServerName).
	TLSVerifyFull TLSMode = "verify-full"
)

// TLSModes lists the valid non-default modes, for messages.
var TLSModes = []TLSMode{TLSDisable, TLSRequire, TLSVerifyCA, TLSVerifyFull}

// ParseTLSMode parses a mode name. "true" and "false" are accepted as the
// shorthands verify-full and disable; the empty string is TLSDefault.
// "allow" and "prefer" (libpq) are refused: both fall back to plain text
// without saying so.
func ParseTLSMode(s string) (TLSMode, error) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "":
		return TLSDefault, nil
	case "true":
		return TLSVerifyFull, nil
	case "false":
		return TLSDisable, nil
	case "allow", "prefer":
		return "", fmt.Errorf("%s falls back to plain text silently and is not supported: use require, verify-ca or verify-full (or disable)", v)
	default:
		for _, m := range TLSModes {
			if TLSMode(v) == m {
				return m, nil
			}
		}
		return "", fmt.Errorf("must be one of disable, require, verify-ca, verify-full, got %q", truncateMsg(s, 32))
	}
}

// TLS is the TLS setting of a target: a mode and the files it uses. It is
// plain data (paths, not key material), so targets stay comparable; the
// files are read by ClientConfig, at configuration load (to report a bad
// file as a configuration error) and again when a client is opened.
type TLS struct {
	Mode TLSMode
	// CAFile is a PEM bundle of the CAs that verify the server (verify-ca,
	// verify-full); empty means the system roots.
	CAFile string
	// CertFile and KeyFile are the PEM client certificate and its key,
	// sent when the server asks for one. Both or neither.
	CertFile string
	KeyFile  string
	// ServerName overrides the host name sent (SNI) and checked
	// (verify-full); empty means the target's host.
	ServerName string
}

// Enabled reports whether the connection is encrypted (any mode but
// disable and the default).
func (s TLS) Enabled() bool { return s.Mode != TLSDefault && s.Mode != TLSDisable }

// TLSFileError is a TLS file that cannot be used. Field is "ca_file",
// "cert_file" or "key_file" (the targets file's keys); the message names
// the path and the reason, never the file's content.
type TLSFileError struct {
	Field string
	Path  string
	Err   error
}

func (e *TLSFileError) Error() string {
	if e.Path == "" {
		return e.Field + ": " + e.Err.Error()
	}
	return e.Field + ": " + e.Path + ": " + e.Err.Error()
}
func (e *TLSFileError) Unwrap() error { return e.Err }

// ClientConfig returns the *tls.Config of s for a connection to host, or
// nil when s is not Enabled. Errors are *TLSFileError (or a bad mode) and
// never quote a file's content.
//
//   - require: encrypted, no verification at all (InsecureSkipVerify).
//   - verify-ca: the chain is verified against CAFile (or the system
//     roots) by VerifyConnection; the host name is not checked.
//   - verify-full: the chain and the host name (ServerName, else host).
func (s TLS) ClientConfig(host string) (*tls.Config, error) {
	switch s.Mode {
	case TLSDefault, TLSDisable:
		return nil, nil
	case TLSRequire, TLSVerifyCA, TLSVerifyFull:
	default:
		return nil, fmt.Errorf("tls: unknown mode %q", truncateMsg(string(s.Mode), 32))
	}
	if (s.CertFile == "") != (s.KeyFile == "") {
		if s.CertFile == "" {
			return nil, &TLSFileError{Field: "cert_file", Err: errors.New("required with key_file (give both or neither)")}
		}
		return nil, &TLSFileError{Field: "key_file", Err: errors.New("required with cert_file (give both or neither)")}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	if s.ServerName != "" {
		cfg.ServerName = s.ServerName
	}
	if s.CertFile != "" {
		cert, err := loadKeyPair(s.CertFile, s.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	var roots *x509.CertPool
	if s.CAFile != "" {
		var err error
		if roots, err = loadCAFile(s.CAFile); err != nil {
			return nil, err
		}
	}
	switch s.Mode {
	case TLSRequire:
		cfg.InsecureSkipVerify = true
	case TLSVerifyCA:
		cfg.InsecureSkipVerify = true // the chain is checked below
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyChain(cs, roots) }
	case TLSVerifyFull:
		cfg.RootCAs = roots
	}
	return cfg, nil
}

// verifyChain verifies the peer's chain against roots (nil: the system
// roots) without a host name, as verify-ca asks. The error is the one the
// standard verification gives, so it classifies as ErrKindTLS.
func verifyChain(cs tls.ConnectionState, roots *x509.CertPool) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("tls: the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: cs.PeerCertificates, Err: err}
	}
	return nil
}

// loadCAFile reads a PEM bundle of CA certificates.
func loadCAFile(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, &TLSFileError{Field: "ca_file", Path: path, Err: pathErr(err)}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &TLSFileError{Field: "ca_file", Path: path, Err: errors.New("no PEM certificate found")}
	}
	return pool, nil
}

// loadKeyPair reads a client certificate and its key. The errors of
// tls.X509KeyPair describe the problem without quoting the key.
func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return tls.Certificate{}, &TLSFileError{Field: "cert_file", Path: certFile, Err: pathErr(err)}
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return tls.Certificate{}, &TLSFileError{Field: "key_file", Path: keyFile, Err: pathErr(err)}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		field, path := "key_file", keyFile
		if strings.Contains(err.Error(), "certificate input") {
			field, path = "cert_file", certFile
		}
		return tls.Certificate{}, &TLSFileError{Field: field, Path: path, Err: errors.New(strings.TrimPrefix(err.Error(), "tls: "))}
	}
	return cert, nil
}

// pathErr drops the path an *os.PathError repeats.
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// truncateMsg shortens s for an error message.
func truncateMsg(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// tlsConfig is ClientConfig for t's host, with a bad file classified as a
// configuration error.
func tlsConfig(t Target) (*tls.Config, error) {
	cfg, err := t.TLS.ClientConfig(t.Host)
	if err != nil {
		return nil, Fail(ErrKindConfig, fmt.Errorf("%s: tls %w", t.Kind, err))
	}
	return cfg, nil
}

// tlsHandshakeError classifies a failed TLS handshake as ErrKindTLS: the
// server does not speak TLS, or one side rejected the other's certificate.
// A timeout stays a timeout, with a hint (a plain server waits for more
// of what it takes for a command).
func tlsHandshakeError(err error) error {
	if Classify(err) == ErrKindTimeout {
		return fmt.Errorf("handshake: no answer (does the server speak TLS on this port?): %w", err)
	}
	return Fail(ErrKindTLS, fmt.Errorf("handshake: %w", err))
}

// tlsAfterHandshakeError classifies a failure of the first exchange on a
// fresh TLS connection. With TLS 1.3 the client's handshake completes
// before the server has checked the client certificate; a server that
// rejects it sends an alert and closes, so the first read or write fails
// (with the alert, or with a reset when the write raced it).
func tlsAfterHandshakeError(err error) error {
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	switch Classify(err) {
	case ErrKindTLS:
		return Fail(ErrKindTLS, err)
	case ErrKindUnavailable:
		return Fail(ErrKindTLS, fmt.Errorf("the server closed the connection right after the TLS handshake (it may require a client certificate, or reject the one sent): %w", err))
	}
	return err
}
