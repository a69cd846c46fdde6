package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/events"
)

// Alertmanager defaults.
const (
	// DefaultResendInterval is how often a firing alert is re-sent to
	// Alertmanager (ALERTMANAGER_RESEND_INTERVAL); Prometheus uses 1m too.
	DefaultResendInterval = time.Minute
	// DefaultService is the value of the service label.
	DefaultService = "database-service"
	// ResolvedResendWindow is how long a resolved alert keeps being
	// re-sent, so an Alertmanager that missed the first resolve (a
	// restart, a partition) still learns of it. Prometheus uses the same.
	ResolvedResendWindow = 15 * time.Minute
	// endsAtFactor times the resend interval is the endsAt of a firing
	// alert: Alertmanager resolves it on its own only after four missed
	// re-sends.
	endsAtFactor = 4
)

// The alertname label values.
const (
	AlertDatabaseDown     = "DatabaseDown"
	AlertDatabaseDegraded = "DatabaseDegraded"
)

// AlertmanagerConfig configures the Alertmanager receiver.
type AlertmanagerConfig struct {
	// URLs are the base URLs of every Alertmanager instance of the
	// cluster ("http://am-0:9093"), not a load balancer in front of them:
	// Alertmanager replicates alerts poorly, Prometheus also sends to each.
	URLs []string `yaml:"urls" json:"urls"`
	// ResendInterval is how often the caller re-sends a firing alert
	// (DefaultResendInterval when zero); it sets the endsAt of the alerts.
	ResendInterval Duration `yaml:"resend_interval,omitempty" json:"resend_interval,omitempty"`
	// Service is the service label; DefaultService when empty.
	Service string `yaml:"service,omitempty" json:"service,omitempty"`
	// Timeout bounds one attempt per instance; DefaultTimeout when zero.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Headers are extra request headers (e.g. Authorization for a proxy);
	// their values are secrets.
	Headers map[string]secret.String `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// AlertmanagerAlert is one alert of Alertmanager's POST /api/v2/alerts.
type AlertmanagerAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// Alertmanager is the Alertmanager receiver.
type Alertmanager struct {
	urls    []string
	service string
	resend  time.Duration
	// headers is a pointer, so even %+v of an Alertmanager shows no
	// secret header.
	headers *http.Header
	http    httpPost
}

// NewAlertmanager validates cfg and returns the receiver.
func NewAlertmanager(cfg AlertmanagerConfig, deps Deps) (*Alertmanager, error) {
	var errs []error
	a := &Alertmanager{
		service: cfg.Service,
		resend:  cfg.ResendInterval.Or(DefaultResendInterval),
		headers: &http.Header{"Content-Type": {"application/json"}},
		http:    httpPost{client: deps.client(), now: deps.now(), timeout: cfg.Timeout.Or(DefaultTimeout)},
	}
	if a.service == "" {
		a.service = DefaultService
	}
	if len(cfg.URLs) == 0 {
		errs = append(errs, errors.New("urls: at least one Alertmanager URL is required"))
	}
	seen := map[string]bool{}
	for i, raw := range cfg.URLs {
		u, err := validHTTPURL(raw)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("urls[%d]: %w", i, err))
		case seen[u.String()]:
			errs = append(errs, fmt.Errorf("urls[%d]: %s listed twice", i, u.Redacted()))
		default:
			seen[u.String()] = true
			a.urls = append(a.urls, strings.TrimSuffix(u.String(), "/")+"/api/v2/alerts")
		}
	}
	if cfg.ResendInterval < 0 {
		errs = append(errs, errors.New("resend_interval: negative"))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("timeout: negative"))
	}
	errs = append(errs, extraHeaders(cfg.Headers, *a.headers)...)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

// ResendInterval is the configured resend interval.
func (a *Alertmanager) ResendInterval() time.Duration { return a.resend }

// Send posts the alert of n to every instance, concurrently. It fails if
// any instance failed, even when others took the alert, so the caller
// retries: posting the same alert again is harmless, Alertmanager
// merges alerts with the same labels. The error is retryable when any
// instance's failure was, gone only when every instance answered 410.
func (a *Alertmanager) Send(ctx context.Context, n Notification) error {
	body, err := json.Marshal([]AlertmanagerAlert{AlertFor(n, a.http.now(), a.resend, a.service)})
	if err != nil {
		return Permanent(fmt.Errorf("alertmanager: %w", err))
	}
	errs := make([]error, len(a.urls))
	var wg sync.WaitGroup
	for i, u := range a.urls {
		wg.Go(func() { errs[i] = a.http.post(ctx, u, u, *a.headers, body) })
	}
	wg.Wait()
	return joinInstanceErrors(errs)
}

// joinInstanceErrors combines per-instance results into one *Error.
func joinInstanceErrors(errs []error) error {
	var (
		failed, gone int
		out          = &Error{Class: ClassPermanent}
	)
	for _, err := range errs {
		if err == nil {
			continue
		}
		failed++
		e := Classify(err)
		switch e.Class {
		case ClassRetryable:
			out.Class = ClassRetryable
		case ClassGone:
			gone++
		}
		out.RetryAfter = max(out.RetryAfter, e.RetryAfter)
	}
	if failed == 0 {
		return nil
	}
	if gone == len(errs) {
		out.Class = ClassGone
	}
	out.Err = fmt.Errorf("alertmanager: %d of %d instances failed: %w", failed, len(errs), errors.Join(errs...))
	return out
}

// String describes the receiver.
func (a *Alertmanager) String() string {
	return fmt.Sprintf("alertmanager %d instances", len(a.urls))
}

// AlertFor is the Alertmanager alert for n at now. Its labels depend only
// on the alert, never on the replica sending it, so every replica's
// re-sends merge into one Alertmanager alert.
func AlertFor(n Notification, now time.Time, resend time.Duration, service string) AlertmanagerAlert {
	ann := map[string]string{
		"summary":  n.Target.Subject() + " is " + n.Condition(),
		"reason":   n.Reason,
		"alert_id": n.AlertID,
	}
	if n.Link != "" {
		ann["link"] = n.Link
	}
	return AlertmanagerAlert{
		Labels:       AlertLabels(n, service),
		Annotations:  ann,
		StartsAt:     n.StartedAt,
		EndsAt:       EndsAt(n, now, resend),
		GeneratorURL: n.Link,
	}
}

// AlertLabels is the label set of n's alert: alertname (DatabaseDown for
// a critical alert, DatabaseDegraded for a warning), database_type,
// target, severity and service.
//
// A DOWN<->DEGRADED move inside one incident changes alertname and
// severity, hence makes a new Alertmanager alert; the caller should send
// the old label set resolved (or let it expire at its endsAt).
func AlertLabels(n Notification, service string) map[string]string {
	name := AlertDatabaseDown
	if n.Severity == events.SeverityWarning {
		name = AlertDatabaseDegraded
	}
	return map[string]string{
		"alertname":     name,
		"database_type": n.Target.Type,
		"target":        n.Target.Name,
		"severity":      string(n.Severity),
		"service":       service,
	}
}

// EndsAt is the endsAt of n's alert sent at now: for a firing alert now
// plus four resend intervals (Alertmanager resolves it by itself if the
// re-sends stop), for a resolved one its resolved_at (now if unknown).
func EndsAt(n Notification, now time.Time, resend time.Duration) time.Time {
	if n.State == StateResolved {
		if n.ResolvedAt != nil {
			return *n.ResolvedAt
		}
		return now
	}
	if resend <= 0 {
		resend = DefaultResendInterval
	}
	return now.Add(endsAtFactor * resend)
}

// KeepResending reports whether n's alert is still to be re-sent to
// Alertmanager at now: always while firing, for ResolvedResendWindow
// after resolved_at once resolved.
func KeepResending(n Notification, now time.Time) bool {
	if n.State != StateResolved {
		return true
	}
	if n.ResolvedAt == nil {
		return false
	}
	return now.Before(n.ResolvedAt.Add(ResolvedResendWindow))
}

var _ Sender = (*Alertmanager)(nil)
