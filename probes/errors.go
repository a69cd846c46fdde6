package probes

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
)

// ErrorKind classifies why a probe failed, so that alerting and dashboards
// can tell "wrong password" from "host down" without parsing messages.
type ErrorKind string

// Error kinds. The empty ErrorKind means no error.
const (
	ErrKindNone        ErrorKind = ""
	ErrKindTimeout     ErrorKind = "timeout"
	ErrKindRefused     ErrorKind = "refused"
	ErrKindDNS         ErrorKind = "dns"
	ErrKindAuth        ErrorKind = "auth"
	ErrKindTLS         ErrorKind = "tls"
	ErrKindProtocol    ErrorKind = "protocol"
	ErrKindUnavailable ErrorKind = "unavailable"
	ErrKindConfig      ErrorKind = "config"
	ErrKindUnknown     ErrorKind = "unknown"
)

// Error is a probe failure with its kind decided by the driver that saw it.
// Drivers return it where the protocol tells them more than the network
// error does (an auth rejection, a non-database server, an unhealthy reply).
type Error struct {
	Kind ErrorKind
	Err  error
}

func (e *Error) Error() string { return string(e.Kind) + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Fail wraps err with a kind. A nil err stays nil.
func Fail(kind ErrorKind, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Kind: kind, Err: err}
}

// Classify decides the ErrorKind of err: a kind set by the driver with Fail
// wins; otherwise the network error is inspected.
func Classify(err error) ErrorKind {
	if err == nil {
		return ErrKindNone
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return ErrKindTimeout
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		if dnsErr.IsTimeout {
			return ErrKindTimeout
		}
		return ErrKindDNS
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return ErrKindRefused
	}
	if errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) {
		return ErrKindUnavailable
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return ErrKindTimeout
	}
	var (
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		recErr      tls.RecordHeaderError
	)
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) || errors.As(err, &recErr) {
		return ErrKindTLS
	}
	if errors.Is(err, context.Canceled) {
		return ErrKindTimeout
	}
	msg := strings.ToLower(err.Error())
	switch {
	case strings.Contains(msg, "connection refused"):
		return ErrKindRefused
	case strings.Contains(msg, "deadline exceeded"), strings.Contains(msg, "i/o timeout"), strings.Contains(msg, "timed out"):
		return ErrKindTimeout
	case strings.Contains(msg, "no such host"):
		return ErrKindDNS
	case strings.Contains(msg, "tls:"), strings.Contains(msg, "x509:"):
		return ErrKindTLS
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"), strings.Contains(msg, "eof"):
		return ErrKindUnavailable
	}
	return ErrKindUnknown
}
