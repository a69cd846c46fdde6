package config

import (
	"net/url"
	"strings"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/notify"
)

// DeliveryConfig is alert delivery: the retry and reminder policy, and the
// receivers simple enough for variables. The targets file's `receivers:`
// section (live-reloaded) holds any others; a receiver of the file with
// the name of one of these replaces it.
type DeliveryConfig struct {
	// MaxAttempts is ALERT_MAX_ATTEMPTS: attempts before a notification is
	// dead-lettered.
	MaxAttempts int `env:"ALERT_MAX_ATTEMPTS" envDefault:"8" json:"max_attempts"`
	// RepeatInterval is ALERT_REPEAT_INTERVAL: how often a still-firing,
	// unacknowledged alert is notified again; 0 turns reminders off.
	RepeatInterval time.Duration `env:"ALERT_REPEAT_INTERVAL" envDefault:"4h" json:"-"`
	// ResendInterval is ALERTMANAGER_RESEND_INTERVAL: how often firing
	// alerts are pushed to Alertmanager again.
	ResendInterval time.Duration `env:"ALERTMANAGER_RESEND_INTERVAL" envDefault:"1m" json:"-"`
	// RetryInterval is ALERT_RETRY_INTERVAL, the backoff before the first
	// retry of a failed delivery (doubling, with jitter, up to 10m).
	RetryInterval time.Duration `env:"ALERT_RETRY_INTERVAL" envDefault:"5s" json:"-"`
	// SendTimeout is ALERT_SEND_TIMEOUT, the bound on one delivery attempt.
	SendTimeout time.Duration `env:"ALERT_SEND_TIMEOUT" envDefault:"30s" json:"-"`
	// ClaimLease is ALERT_CLAIM_LEASE: how long a replica holds a
	// notification it is delivering; if it dies, another replica takes the
	// notification over after this long. More than ALERT_SEND_TIMEOUT.
	ClaimLease time.Duration `env:"ALERT_CLAIM_LEASE" envDefault:"2m" json:"-"`
	// LogRetention is ALERT_LOG_RETENTION: how long delivered and
	// suppressed notifications stay in the notification log (failed ones
	// stay until retried). A notification pruned is forgotten, so this is
	// longer than ALERT_REPEAT_INTERVAL and than any redelivery of a
	// transition.
	LogRetention time.Duration `env:"ALERT_LOG_RETENTION" envDefault:"168h" json:"-"`
	// BaseURL is ALERT_BASE_URL, the service's address as people reach it,
	// for the links in notifications; empty means http://SERVICE_IP:port.
	BaseURL string `env:"ALERT_BASE_URL" json:"base_url"`

	// WebhookURL and WebhookSecrets are ALERT_WEBHOOK_URL and
	// ALERT_WEBHOOK_SECRETS (whsec_ secrets, comma-separated; several
	// during a rotation): the receiver "webhook".
	WebhookURL     string          `env:"ALERT_WEBHOOK_URL" json:"webhook_url"`
	WebhookSecrets []secret.String `env:"ALERT_WEBHOOK_SECRETS" envSeparator:"," json:"webhook_secrets"`
	// AlertmanagerURLs is ALERTMANAGER_URLS, every Alertmanager instance
	// (comma-separated, not a balancer): the receiver "alertmanager".
	AlertmanagerURLs []string `env:"ALERTMANAGER_URLS" envSeparator:"," json:"alertmanager_urls"`
	// SlackURL is ALERT_SLACK_WEBHOOK_URL, a Slack-compatible incoming
	// webhook (Slack, Mattermost, Rocket.Chat): the receiver "slack".
	SlackURL secret.String `env:"ALERT_SLACK_WEBHOOK_URL" json:"slack_webhook_url"`
	// SMTP is the receiver "email", set when ALERT_SMTP_HOST is.
	SMTP SMTPConfig `json:"smtp"`
}

// SMTPConfig is the e-mail receiver of the variables.
type SMTPConfig struct {
	Host     string        `env:"ALERT_SMTP_HOST" json:"host"`
	Port     int           `env:"ALERT_SMTP_PORT" envDefault:"587" json:"port"`
	StartTLS string        `env:"ALERT_SMTP_STARTTLS" envDefault:"required" json:"starttls"`
	Username string        `env:"ALERT_SMTP_USERNAME" json:"username"`
	Password secret.String `env:"ALERT_SMTP_PASSWORD" json:"password"`
	From     string        `env:"ALERT_EMAIL_FROM" json:"from"`
	To       []string      `env:"ALERT_EMAIL_TO" envSeparator:"," json:"to"`
}

// EnvReceivers are the receivers the variables define, in the order
// webhook, alertmanager, slack, email.
func (d DeliveryConfig) EnvReceivers() []notify.ReceiverConfig {
	var out []notify.ReceiverConfig
	if d.WebhookURL != "" {
		out = append(out, notify.ReceiverConfig{Name: "webhook", Kind: notify.KindWebhook,
			Webhook: &notify.WebhookConfig{URL: d.WebhookURL, Secrets: d.WebhookSecrets}})
	}
	if len(d.AlertmanagerURLs) > 0 {
		out = append(out, notify.ReceiverConfig{Name: "alertmanager", Kind: notify.KindAlertmanager,
			Alertmanager: &notify.AlertmanagerConfig{URLs: trimAll(d.AlertmanagerURLs), ResendInterval: notify.Duration(d.ResendInterval)}})
	}
	if d.SlackURL.IsSet() {
		out = append(out, notify.ReceiverConfig{Name: "slack", Kind: notify.KindSlack, Slack: &notify.SlackConfig{URL: d.SlackURL}})
	}
	if s := d.SMTP; s.Host != "" {
		out = append(out, notify.ReceiverConfig{Name: "email", Kind: notify.KindEmail, Email: &notify.EmailConfig{
			Host: s.Host, Port: s.Port, StartTLS: s.StartTLS, Username: s.Username, Password: s.Password,
			From: s.From, To: trimAll(s.To)}})
	}
	return out
}

// Secrets are the delivery settings' credentials.
func (d DeliveryConfig) Secrets() []secret.String {
	return append([]secret.String{d.SlackURL, d.SMTP.Password}, d.WebhookSecrets...)
}

func trimAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// validateDelivery checks the delivery variables and builds the receivers
// they define, to report a bad URL, secret or address now.
func (c *Config) validateDelivery(p *problems) {
	d := c.Alerts.Delivery
	if d.RepeatInterval < 0 {
		p.add(fieldErr("ALERT_REPEAT_INTERVAL", "must be 0 (off) or positive, got %s", d.RepeatInterval))
	}
	if d.RetryInterval < 100*time.Millisecond {
		p.add(fieldErr("ALERT_RETRY_INTERVAL", "must be at least 100ms, got %s", d.RetryInterval))
	}
	if d.SendTimeout < 100*time.Millisecond {
		p.add(fieldErr("ALERT_SEND_TIMEOUT", "must be at least 100ms, got %s", d.SendTimeout))
	}
	if d.ClaimLease <= d.SendTimeout {
		p.add(fieldErr("ALERT_CLAIM_LEASE", "must be more than ALERT_SEND_TIMEOUT (%s), got %s", d.SendTimeout, d.ClaimLease))
	}
	if d.LogRetention < time.Hour {
		p.add(fieldErr("ALERT_LOG_RETENTION", "must be at least 1h, got %s", d.LogRetention))
	} else if d.LogRetention <= d.RepeatInterval {
		p.add(fieldErr("ALERT_LOG_RETENTION", "must be more than ALERT_REPEAT_INTERVAL (%s), got %s", d.RepeatInterval, d.LogRetention))
	}
	if d.ResendInterval < time.Second {
		p.add(fieldErr("ALERTMANAGER_RESEND_INTERVAL", "must be at least 1s, got %s", d.ResendInterval))
	}
	if d.BaseURL != "" {
		if u, err := url.Parse(d.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			p.add(fieldErr("ALERT_BASE_URL", "must be an http(s) URL without credentials"))
		}
	}
	nc := notify.Config{Receivers: d.EnvReceivers()}
	if err := nc.Validate(); err != nil {
		for i, r := range nc.Receivers {
			if one := (&notify.Config{Receivers: nc.Receivers[i : i+1]}).Validate(); one != nil {
				p.add(fieldErr(envReceiverVars[r.Name], "%s", strings.TrimPrefix(one.Error(), "notify: receivers[0] ")))
			}
		}
	}
}

// envReceiverVars names the variables of each receiver the variables define.
var envReceiverVars = map[string]string{
	"webhook":      "ALERT_WEBHOOK_URL/ALERT_WEBHOOK_SECRETS",
	"alertmanager": "ALERTMANAGER_URLS",
	"slack":        "ALERT_SLACK_WEBHOOK_URL",
	"email":        "ALERT_SMTP_*/ALERT_EMAIL_*",
}

// ReceiverSecrets are a receiver's credentials: signing secrets, the
// Slack URL, the SMTP password, header values.
func ReceiverSecrets(r notify.ReceiverConfig) []secret.String {
	var out []secret.String
	headers := func(h map[string]secret.String) {
		for _, v := range h {
			out = append(out, v)
		}
	}
	if w := r.Webhook; w != nil {
		out = append(out, w.Secrets...)
		headers(w.Headers)
	}
	if a := r.Alertmanager; a != nil {
		headers(a.Headers)
	}
	if s := r.Slack; s != nil {
		out = append(out, s.URL)
	}
	if e := r.Email; e != nil {
		out = append(out, e.Password)
	}
	return out
}
