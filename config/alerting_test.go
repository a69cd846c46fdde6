package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/notify"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// The variables define the simple receivers, validated at load with the
// variable named.
func TestDeliveryVariables(t *testing.T) {
	c := mustLoad(t, map[string]string{
		"ALERT_WEBHOOK_URL": "https://hooks.example/db", "ALERT_WEBHOOK_SECRETS": testSecret + "," + testSecret,
		"ALERTMANAGER_URLS": "http://am1:9093, http://am2:9093", "ALERT_SLACK_WEBHOOK_URL": "https://hooks.slack.example/T/B/x",
		"ALERT_SMTP_HOST": "smtp.example", "ALERT_EMAIL_FROM": "db@example.com", "ALERT_EMAIL_TO": "ops@example.com,dba@example.com",
		"ALERT_SMTP_USERNAME": "db", "ALERT_SMTP_PASSWORD": "smtp-pass",
	}, nil)
	rs := c.Alerts.Delivery.EnvReceivers()
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "webhook,alertmanager,slack,email" {
		t.Fatalf("receivers %v", names)
	}
	if len(rs[0].Webhook.Secrets) != 2 || len(rs[1].Alertmanager.URLs) != 2 || rs[1].Alertmanager.URLs[1] != "http://am2:9093" ||
		len(rs[3].Email.To) != 2 || rs[3].Email.Port != 587 {
		t.Errorf("receivers %+v", rs)
	}
	if err := (&notify.Config{Receivers: rs}).Validate(); err != nil {
		t.Errorf("the variables' receivers do not validate: %v", err)
	}
	red := string(mustJSON(t, c.Redacted()))
	for _, s := range []string{testSecret, "smtp-pass", "hooks.slack.example"} {
		if strings.Contains(red, s) {
			t.Errorf("the redacted configuration shows %q", s)
		}
	}

	for vars, want := range map[string]map[string]string{
		"ALERT_WEBHOOK_URL/ALERT_WEBHOOK_SECRETS": {"ALERT_WEBHOOK_URL": "https://hooks.example/db", "ALERT_WEBHOOK_SECRETS": "nope"},
		"ALERTMANAGER_URLS":                       {"ALERTMANAGER_URLS": "ftp://am"},
		"ALERT_MAX_ATTEMPTS":                      {"ALERT_MAX_ATTEMPTS": "0"},
		"ALERTMANAGER_RESEND_INTERVAL":            {"ALERTMANAGER_RESEND_INTERVAL": "10ms"},
		"ALERT_REPEAT_INTERVAL":                   {"ALERT_REPEAT_INTERVAL": "-1h"},
		"ALERT_BASE_URL":                          {"ALERT_BASE_URL": "http://u:p@host"},
		"ALERT_CLAIM_LEASE":                       {"ALERT_SEND_TIMEOUT": "10s", "ALERT_CLAIM_LEASE": "10s"},
		"ALERT_LOG_RETENTION":                     {"ALERT_LOG_RETENTION": "30m"},
		"ALERT_LOG_RETENTION: must be more than ALERT_REPEAT_INTERVAL": {"ALERT_LOG_RETENTION": "4h"},
	} {
		_, err := Load(LoadOptions{Environ: want, Dir: t.TempDir()})
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), vars) {
			t.Errorf("%v: %v, want an error naming %s", want, err, vars)
		}
		if err != nil && strings.Contains(err.Error(), "nope") {
			t.Errorf("the error shows the bad secret: %v", err)
		}
	}
}

// The targets file's receivers: section is parsed strictly, merged with
// the variables' receivers by name, and a conflict is refused.
func TestTargetsFileReceivers(t *testing.T) {
	doc := "targets: []\nreceivers:\n  - name: ops\n    kind: webhook\n    webhook: {url: 'https://hooks.example/ops', secrets: ['" + testSecret + "']}\n    route: {severities: [critical]}\n"
	al, err := ParseAlerting([]byte(doc))
	if err != nil || len(al.Receivers) != 1 || al.Receivers[0].Name != "ops" {
		t.Fatalf("ParseAlerting = %+v, %v", al, err)
	}
	if _, err := ParseTargets([]byte(doc), Defaults{}); err != nil {
		t.Errorf("ParseTargets refuses a document with receivers: %v", err)
	}
	if _, err := ParseAlerting([]byte("receivers:\n  - {name: x, kind: webhook, webhook: {url: 'https://a'}, colour: red}\n")); !errors.Is(err, ErrInvalid) {
		t.Errorf("an unknown field: %v, want ErrInvalid", err)
	}
	if al, err := ParseAlerting([]byte("targets: []\n")); err != nil || len(al.Receivers) != 0 {
		t.Errorf("no section: %+v, %v", al, err)
	}

	dir := t.TempDir()
	path := filepath.Join(dir, "targets.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	c := mustLoad(t, map[string]string{"TARGETS_FILE": path, "ALERT_WEBHOOK_URL": "https://hooks.example/db", "ALERT_WEBHOOK_SECRETS": testSecret}, nil)
	merged, err := c.MergeAlerting(TargetSet{Source: "file", Alerting: c.FileAlerting()})
	if err != nil || len(merged.Receivers) != 2 {
		t.Fatalf("merged %+v, %v", merged, err)
	}
	other := c.FileAlerting()
	other.Receivers = append([]notify.ReceiverConfig(nil), other.Receivers...)
	other.Receivers[0].Route = notify.Route{}
	_, err = c.MergeAlerting(TargetSet{Source: "file", Alerting: c.FileAlerting()}, TargetSet{Source: "nacos", Alerting: other})
	if !errors.Is(err, ErrTargetConflict) || !strings.Contains(err.Error(), "receiver ops") || strings.Contains(err.Error(), testSecret) {
		t.Errorf("conflict: %v", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The maintenance: section gives configured windows.
func TestTargetsFileMaintenance(t *testing.T) {
	doc := "maintenance:\n  - {name: nightly, cron: '30 2 * * *', duration: 1h, time_zone: Europe/Berlin, matchers: [{name: type, value: postgres}]}\n"
	al, err := ParseAlerting([]byte(doc))
	if err != nil || len(al.Maintenance) != 1 || al.Maintenance[0].Name != "nightly" || al.Maintenance[0].Source != "config" {
		t.Fatalf("ParseAlerting = %+v, %v", al, err)
	}
	if _, err := ParseAlerting([]byte("maintenance:\n  - {name: bad, cron: 'every day', duration: 1h}\n")); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "cron") {
		t.Errorf("a bad cron: %v", err)
	}
	c := mustLoad(t, nil, nil)
	if _, err := c.MergeAlerting(TargetSet{Source: "file", Alerting: al}, TargetSet{Source: "nacos", Alerting: al}); !errors.Is(err, ErrTargetConflict) {
		t.Errorf("the same window in two sources: %v", err)
	}
}

// TestREADMEReceivers: the README's receivers example is valid.
func TestREADMEReceivers(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "### Receivers")
	_, block, ok2 := strings.Cut(rest, "```yaml\n")
	block, _, ok3 := strings.Cut(block, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("no yaml block under the README's Receivers heading")
	}
	al, err := ParseAlerting([]byte(block))
	if err != nil || len(al.Receivers) != 4 || len(al.Maintenance) != 1 {
		t.Errorf("README receivers: %d receivers, %d windows, %v", len(al.Receivers), len(al.Maintenance), err)
	}
}
