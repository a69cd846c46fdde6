package probes

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dbhealth/database-service/config/secret"
)

// rabbitHealthChecks are the management API checks a probe asks for.
var rabbitHealthChecks = []string{"alarms", "local-alarms"}

// rabbitManagement asks the RabbitMQ management API for health checks.
type rabbitManagement struct {
	base       *url.URL // without credentials
	user, pass string
	hc         *http.Client
}

// newRabbitManagement parses t.ManagementURL. Credentials in the URL win
// over the target's; either way they travel as basic auth, not in the URL.
func newRabbitManagement(t Target) (*rabbitManagement, error) {
	u, err := url.Parse(t.ManagementURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may hold a password: say what is wrong without it.
		return nil, Fail(ErrKindConfig, errors.New("rabbitmq management URL: want http(s)://host:port"))
	}
	// An https management URL uses the target's TLS mode and files, checked
	// against the URL's host; without a mode, Go's default verification.
	var tlsCfg *tls.Config
	if u.Scheme == "https" {
		if tlsCfg, err = t.TLS.ClientConfig(u.Hostname()); err != nil {
			return nil, Fail(ErrKindConfig, fmt.Errorf("rabbitmq management: tls %w", err))
		}
	}
	m := &rabbitManagement{
		user: t.Username,
		pass: t.Password.Reveal(),
		hc: &http.Client{Transport: &http.Transport{
			TLSClientConfig:     tlsCfg,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     90 * time.Second,
		}},
	}
	if u.User != nil {
		m.user = u.User.Username()
		m.pass, _ = u.User.Password()
		u.User = nil
	}
	m.base = u
	return m, nil
}

// checkAll runs every health check in turn.
func (m *rabbitManagement) checkAll(ctx context.Context) []RabbitMQHealthCheck {
	out := make([]RabbitMQHealthCheck, 0, len(rabbitHealthChecks))
	for _, name := range rabbitHealthChecks {
		out = append(out, m.check(ctx, name))
	}
	return out
}

// check runs one health check: 200 is OK, 503 carries the alarms.
func (m *rabbitManagement) check(ctx context.Context, name string) RabbitMQHealthCheck {
	res := RabbitMQHealthCheck{Check: name}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.base.JoinPath("api/health/checks", name).String(), nil)
	if err != nil {
		res.Reason = m.scrub(err.Error())
		return res
	}
	req.SetBasicAuth(m.user, m.pass)
	resp, err := m.hc.Do(req)
	if err != nil {
		res.Reason = "management API: " + m.scrub(err.Error())
		return res
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	res.Status = resp.StatusCode
	switch {
	case resp.StatusCode == http.StatusOK:
		res.OK = true
	case resp.StatusCode == http.StatusServiceUnavailable:
		res.Reason = m.scrub(alarmText(body))
	default:
		res.Reason = fmt.Sprintf("management API: HTTP %d", resp.StatusCode)
		if r := alarmText(body); r != "" {
			res.Reason += ": " + m.scrub(r)
		}
	}
	return res
}

// scrub removes the management credentials from msg.
func (m *rabbitManagement) scrub(msg string) string {
	return scrubURLCredentials(secret.Scrub(msg, secret.String(m.pass)))
}

func (m *rabbitManagement) close() { m.hc.CloseIdleConnections() }

// alarmText turns a health check's JSON body into one line:
// `There are alarms in effect in the cluster: memory on rabbit@a`.
func alarmText(body []byte) string {
	var v struct {
		Reason string `json:"reason"`
		Alarms []struct {
			Node     string `json:"node"`
			Resource string `json:"resource"`
		} `json:"alarms"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	var alarms []string
	for _, a := range v.Alarms {
		alarms = append(alarms, a.Resource+" on "+a.Node)
	}
	if len(alarms) == 0 {
		return v.Reason
	}
	return v.Reason + ": " + strings.Join(alarms, ", ")
}
