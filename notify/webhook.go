package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/dbhealth/database-service/config/secret"
)

// WebhookConfig configures a webhook receiver: the Notification as JSON,
// POSTed and signed per Standard Webhooks.
type WebhookConfig struct {
	// URL is the http(s) endpoint.
	URL string `yaml:"url" json:"url"`
	// Secrets are "whsec_<base64>" signing secrets; at least one. Every
	// request carries one signature per secret, so a new secret can be
	// added before the receiver switches to it and the old one removed
	// after.
	Secrets []secret.String `yaml:"secrets" json:"secrets"`
	// Timeout bounds one attempt; DefaultTimeout when zero.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Headers are extra request headers (e.g. Authorization); their
	// values are secrets. They cannot replace Content-Type, User-Agent or
	// the webhook-* headers.
	Headers map[string]secret.String `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// Webhook is the webhook receiver.
type Webhook struct {
	url   string
	shown string
	// creds is a pointer, so even %+v of a Webhook shows no secret.
	creds *webhookCreds
	http  httpPost
}

type webhookCreds struct {
	keys    [][]byte
	headers http.Header
}

// NewWebhook validates cfg and returns the receiver.
func NewWebhook(cfg WebhookConfig, deps Deps) (*Webhook, error) {
	var errs []error
	u, err := validHTTPURL(cfg.URL)
	if err != nil {
		errs = append(errs, fmt.Errorf("url: %w", err))
	}
	if len(cfg.Secrets) == 0 {
		errs = append(errs, errors.New("secrets: at least one whsec_ secret is required"))
	}
	w := &Webhook{url: cfg.URL, creds: &webhookCreds{headers: http.Header{}}, http: httpPost{client: deps.client(), now: deps.now(), timeout: cfg.Timeout.Or(DefaultTimeout)}}
	for i, s := range cfg.Secrets {
		key, err := SigningKey(s)
		if err != nil {
			errs = append(errs, fmt.Errorf("secrets[%d]: %w", i, err))
			continue
		}
		w.creds.keys = append(w.creds.keys, key)
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("timeout: negative"))
	}
	errs = append(errs, extraHeaders(cfg.Headers, w.creds.headers)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	w.shown = hostOnly(u)
	w.creds.headers.Set("Content-Type", "application/json")
	return w, nil
}

// Send POSTs n. The webhook-id is n.ID on every attempt, so the receiver
// can drop duplicates; the timestamp and signature are of this attempt.
func (w *Webhook) Send(ctx context.Context, n Notification) error {
	if n.ID == "" {
		return Permanent(errors.New("webhook: notification without id"))
	}
	body, err := json.Marshal(n)
	if err != nil {
		return Permanent(fmt.Errorf("webhook: %w", err))
	}
	ts := w.http.now().Unix()
	h := w.creds.headers.Clone()
	h.Set("webhook-id", n.ID)
	h.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	h.Set("webhook-signature", Signature(n.ID, ts, body, w.creds.keys...))
	return w.http.post(ctx, w.url, w.shown, h, body)
}

// String describes the receiver without its secrets.
func (w *Webhook) String() string {
	return fmt.Sprintf("webhook %s (%d signing secrets)", w.shown, len(w.creds.keys))
}

var _ Sender = (*Webhook)(nil)

// hostOnly is how a webhook URL appears in errors and logs: its scheme and
// host, with "/…" for any path or query, which often carry a token.
func hostOnly(u *url.URL) string {
	s := u.Scheme + "://" + u.Host
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		s += "/…"
	}
	return s
}
