package notify

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const goodConfig = `
receivers:
  - name: ops-webhook
    kind: webhook
    webhook:
      url: https://hooks.example.com/dbhealth
      secrets:
        - whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
        - whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD
      timeout: 5s
      headers:
        Authorization: Bearer t0ken-value
    route:
      types: [postgres, redis]
      names: ["prod-*"]
      severities: [critical]
  - name: alertmanager
    kind: alertmanager
    alertmanager:
      urls: [http://am-0:9093, http://am-1:9093]
      resend_interval: 30s
  - name: chat
    kind: slack
    slack:
      url: https://hooks.slack.com/services/T000/B000/XXXXSECRET
      username: dbhealth
      template:
        title: "{{.Target.Name}} {{.Condition}}"
    route:
      send_resolved: false
  - name: dba-mail
    kind: email
    email:
      host: smtp.example.com
      port: 587
      starttls: required
      username: dbhealth
      password: mail-passw0rd
      from: Database health <dbhealth@example.com>
      to: [dba@example.com, oncall@example.com]
`

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Receivers) != 4 {
		t.Fatalf("%d receivers", len(c.Receivers))
	}
	if d := time.Duration(c.Receivers[0].Webhook.Timeout); d != 5*time.Second {
		t.Errorf("timeout %v", d)
	}
	if d := time.Duration(c.Receivers[1].Alertmanager.ResendInterval); d != 30*time.Second {
		t.Errorf("resend_interval %v", d)
	}
	if c.Receivers[3].Email.Password.Reveal() != "mail-passw0rd" || c.Receivers[2].Slack.URL.Reveal() == "" {
		t.Error("secrets not decoded")
	}
	rs, err := c.Build(Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if rs[0].Name != "ops-webhook" || rs[0].Kind != KindWebhook || rs[3].Kind != KindEmail {
		t.Errorf("receivers %+v", rs)
	}
	if _, ok := rs[1].Sender.(*Alertmanager); !ok {
		t.Errorf("receiver 1 is %T", rs[1].Sender)
	}
	if rs[2].Route.Matches(resolvedSample()) || !rs[2].Route.Matches(sample()) {
		t.Error("send_resolved: false not applied")
	}
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"MfKQ9r8", "t0ken-value", "XXXXSECRET", "mail-passw0rd"} {
		if strings.Contains(string(js), s) {
			t.Errorf("JSON dump leaks %q: %s", s, js)
		}
	}
}

func TestParseConfigEmpty(t *testing.T) {
	for _, in := range []string{"", "receivers: []\n"} {
		c, err := ParseConfig([]byte(in))
		if err != nil || len(c.Receivers) != 0 {
			t.Errorf("%q: %v %v", in, c, err)
		}
	}
}

func TestParseConfigRejectsBadInput(t *testing.T) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	cases := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown kind", `
receivers:
  - name: a
    kind: pagerduty
`, []string{"receivers[0] (a): kind: unknown kind \"pagerduty\""}},
		{"missing kind", `
receivers:
  - name: a
`, []string{"receivers[0] (a): kind: missing"}},
		{"block of another kind", `
receivers:
  - name: a
    kind: webhook
    slack: {url: "http://x/"}
`, []string{"receivers[0] (a): webhook: missing", "slack: set, but kind is \"webhook\""}},
		{"bad url", `
receivers:
  - name: a
    kind: webhook
    webhook: {url: "hooks.example.com/x", secrets: [` + secret + `]}
`, []string{"receivers[0] (a): webhook.url: scheme"}},
		{"bad alertmanager url", `
receivers:
  - name: am
    kind: alertmanager
    alertmanager: {urls: ["http://ok:9093", "http//bad"]}
`, []string{"receivers[0] (am): alertmanager.urls[1]"}},
		{"bad secret", `
receivers:
  - name: a
    kind: webhook
    webhook: {url: "https://x/", secrets: ["whsec_c2hvcnQ=", "plain-s3cret-value"]}
`, []string{"receivers[0] (a): webhook.secrets[0]", "receivers[0] (a): webhook.secrets[1]"}},
		{"bad template", `
receivers:
  - name: chat
    kind: slack
    slack: {url: "https://x/", template: {body: "{{.Reason"}}
`, []string{"receivers[0] (chat): slack.template.body"}},
		{"unknown template field", `
receivers:
  - name: chat
    kind: email
    email: {host: h, from: a@example.com, to: [b@example.com], template: {title: "{{.Nope}}"}}
`, []string{"receivers[0] (chat): email.template.title"}},
		{"duplicate names", `
receivers:
  - {name: a, kind: webhook, webhook: {url: "https://x/", secrets: [` + secret + `]}}
  - {name: b, kind: webhook, webhook: {url: "https://y/", secrets: [` + secret + `]}}
  - {name: a, kind: webhook, webhook: {url: "https://z/", secrets: [` + secret + `]}}
`, []string{"receivers[2] (a): name: duplicate of receivers[0]"}},
		{"bad name", `
receivers:
  - {name: "has space", kind: webhook, webhook: {url: "https://x/", secrets: [` + secret + `]}}
  - {kind: webhook, webhook: {url: "https://x/", secrets: [` + secret + `]}}
`, []string{"receivers[0] (has space): name:", "receivers[1]: name: missing"}},
		{"bad route", `
receivers:
  - name: a
    kind: webhook
    webhook: {url: "https://x/", secrets: [` + secret + `]}
    route: {types: [mysql], names: ["[bad"], severities: [page]}
`, []string{"route.types[0]", "route.names[0]", "route.severities[0]"}},
		{"unknown field", `
receivers:
  - name: a
    kind: webhook
    webhook: {url: "https://x/", secrets: [` + secret + `], secret: x}
`, []string{"field secret not found"}},
		{"bad duration", `
receivers:
  - name: a
    kind: webhook
    webhook: {url: "https://x/", secrets: [` + secret + `], timeout: soon}
`, []string{"bad duration \"soon\""}},
		{"bad starttls", `
receivers:
  - name: m
    kind: email
    email: {host: h, from: a@example.com, to: [b@example.com], starttls: always}
`, []string{"receivers[0] (m): email.starttls"}},
		{"several errors", `
receivers:
  - name: a
    kind: webhook
    webhook: {url: "", secrets: []}
`, []string{"webhook.url: missing", "webhook.secrets: at least one"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(c.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%v", w, err)
				}
			}
			for _, leak := range []string{"MfKQ9r8", "plain-s3cret-value", "c2hvcnQ"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error leaks a secret (%s):\n%v", leak, err)
				}
			}
		})
	}
}
