package notify

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Class is what the caller should do after a failed send.
type Class int

// The classes of a failed send.
const (
	// ClassRetryable: try again later (network error, HTTP 5xx, 408, 429,
	// SMTP 4xx, timeout).
	ClassRetryable Class = iota + 1
	// ClassPermanent: trying again will fail the same way (HTTP 4xx other
	// than 408, 410 and 429, SMTP 5xx, an invalid notification, a TLS
	// certificate that does not verify).
	ClassPermanent
	// ClassGone: the receiver no longer exists (HTTP 410); disable it.
	// Gone errors are not retryable.
	ClassGone
)

// String returns "retryable", "permanent" or "gone".
func (c Class) String() string {
	switch c {
	case ClassRetryable:
		return "retryable"
	case ClassPermanent:
		return "permanent"
	case ClassGone:
		return "gone"
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// MaxRetryAfter caps a Retry-After a receiver asks for.
const MaxRetryAfter = time.Hour

// Error is a failed send with its class. Receivers return it; Classify
// finds it in a wrapped chain or derives one from any other error.
type Error struct {
	// Class says whether to retry, give up or disable the receiver.
	Class Class
	// RetryAfter is the pause the receiver asked for (Retry-After), zero
	// when it did not.
	RetryAfter time.Duration
	// StatusCode is the HTTP status or SMTP reply code, zero when the
	// failure was not a reply.
	StatusCode int
	// Err is the cause.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	msg := "notify: " + e.Class.String()
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.RetryAfter > 0 {
		msg += " (retry after " + e.RetryAfter.String() + ")"
	}
	return msg
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Retryable reports whether the send should be tried again.
func (e *Error) Retryable() bool { return e.Class == ClassRetryable }

// Permanent reports whether trying again is pointless (ClassPermanent or
// ClassGone).
func (e *Error) Permanent() bool { return e.Class != ClassRetryable }

// Gone reports whether the receiver must be disabled.
func (e *Error) Gone() bool { return e.Class == ClassGone }

// Classify returns the class of err: the *Error in its chain if there is
// one; otherwise a retryable *Error for network errors and timeouts
// (context deadline or cancellation, *url.Error, net.Error) except TLS
// certificate verification failures, and a permanent one for the rest.
// Classify(nil) is nil.
func Classify(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Class: classOf(err), Err: err}
}

func classOf(err error) Class {
	var (
		unknownCA *x509.UnknownAuthorityError
		invalid   x509.CertificateInvalidError
		hostname  x509.HostnameError
	)
	switch {
	case errors.As(err, &unknownCA), errors.As(err, &invalid), errors.As(err, &hostname):
		return ClassPermanent
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return ClassRetryable
	}
	var (
		ne net.Error
		ue *url.Error
	)
	if errors.As(err, &ne) || errors.As(err, &ue) {
		return ClassRetryable
	}
	return ClassPermanent
}

// Retryable is a retryable *Error wrapping err.
func Retryable(err error) *Error { return &Error{Class: ClassRetryable, Err: err} }

// Permanent is a permanent *Error wrapping err.
func Permanent(err error) *Error { return &Error{Class: ClassPermanent, Err: err} }

// ErrStatus is the cause of an *Error made from an HTTP reply that is not
// 2xx; the *Error's StatusCode tells which.
var ErrStatus = errors.New("notify: unexpected HTTP status")

// HTTPError classifies a reply of status code with header h and the start
// of its body: nil for 2xx; ClassGone for 410; ClassRetryable for 408,
// 429 and 5xx, with RetryAfter from the Retry-After header (seconds or an
// HTTP date, relative to now); ClassPermanent otherwise.
func HTTPError(code int, h http.Header, body string, now time.Time) error {
	if code >= 200 && code < 300 {
		return nil
	}
	e := &Error{StatusCode: code, Err: fmt.Errorf("%w %d %s", ErrStatus, code, snippet(body))}
	switch {
	case code == http.StatusGone:
		e.Class = ClassGone
	case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code >= 500:
		e.Class = ClassRetryable
		e.RetryAfter, _ = ParseRetryAfter(h.Get("Retry-After"), now)
	default:
		e.Class = ClassPermanent
	}
	return e
}

// snippet is the first line of body, at most 200 bytes, for an error.
func snippet(body string) string {
	body = strings.TrimSpace(body)
	if i := strings.IndexAny(body, "\r\n"); i >= 0 {
		body = body[:i]
	}
	if len(body) > 200 {
		body = body[:200] + "..."
	}
	return strings.ToValidUTF8(body, "?")
}

// ParseRetryAfter parses a Retry-After value, delay-seconds or an HTTP
// date, into a pause from now, at most MaxRetryAfter. ok is false for an
// empty or malformed value; a date in the past is a zero pause.
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs > int64(MaxRetryAfter/time.Second) {
			return MaxRetryAfter, true
		}
		return time.Duration(secs) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), MaxRetryAfter), true
}
