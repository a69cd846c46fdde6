package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dbhealth/database-service/config/secret"
)

// DefaultTimeout bounds one attempt of an HTTP receiver.
const DefaultTimeout = 10 * time.Second

// userAgent is sent by every HTTP receiver.
const userAgent = "database-service-notify/1"

// httpPost is one POST attempt shared by the HTTP receivers.
type httpPost struct {
	client  *http.Client
	now     func() time.Time
	timeout time.Duration
}

// post sends body to target with header, within p.timeout, and
// classifies the outcome with HTTPError. shown is how the target appears
// in errors (a URL with a token in it is a secret).
func (p httpPost) post(ctx context.Context, target, shown string, header http.Header, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("post %s: bad request", shown))
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", userAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = shown
		}
		return Classify(fmt.Errorf("post %s: %w", shown, err))
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if err := HTTPError(resp.StatusCode, resp.Header, string(head), p.now()); err != nil {
		var e *Error
		errors.As(err, &e)
		e.Err = fmt.Errorf("post %s: %w", shown, e.Err)
		return e
	}
	return nil
}

// validHTTPURL checks that raw is an absolute http(s) URL with a host.
func validHTTPURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, errors.New("missing")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("no host")
	}
	return u, nil
}

// reservedHeaders may not be set through WebhookConfig.Headers.
var reservedHeaders = []string{"Content-Type", "Content-Length", "User-Agent", "Host", "Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}

// extraHeaders checks configured extra headers and sets them on h.
func extraHeaders(cfg map[string]secret.String, h http.Header) []error {
	var errs []error
	for k, v := range cfg {
		ck := http.CanonicalHeaderKey(k)
		switch {
		case k == "" || strings.ContainsAny(k, " :\r\n\t"):
			errs = append(errs, fmt.Errorf("headers: bad header name %q", k))
		case strings.ContainsAny(v.Reveal(), "\r\n"):
			errs = append(errs, fmt.Errorf("headers.%s: value contains a line break", k))
		case containsFold(reservedHeaders, ck):
			errs = append(errs, fmt.Errorf("headers.%s: set by the receiver itself", k))
		default:
			h.Set(ck, v.Reveal())
		}
	}
	return errs
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
