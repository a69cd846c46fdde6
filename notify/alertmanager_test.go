package notify

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
)

func TestAlertLabelsAndEndsAt(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 1, 0, 0, time.UTC)
	n := sample()
	a := AlertFor(n, now, time.Minute, "svc")
	want := map[string]string{"alertname": "DatabaseDown", "database_type": "postgres", "target": "orders", "severity": "critical", "service": "svc"}
	if !maps.Equal(a.Labels, want) {
		t.Errorf("labels %v, want %v", a.Labels, want)
	}
	if !a.StartsAt.Equal(n.StartedAt) || !a.EndsAt.Equal(now.Add(4*time.Minute)) || a.GeneratorURL != n.Link {
		t.Errorf("alert %+v", a)
	}
	if a.Annotations["summary"] != "postgres/orders is DOWN" || a.Annotations["reason"] != n.Reason || a.Annotations["link"] != n.Link {
		t.Errorf("annotations %v", a.Annotations)
	}
	n.Severity = events.SeverityWarning
	if l := AlertLabels(n, DefaultService); l["alertname"] != "DatabaseDegraded" || l["severity"] != "warning" || l["service"] != "database-service" {
		t.Errorf("degraded labels %v", l)
	}
	r := resolvedSample()
	if got := EndsAt(r, now.Add(time.Hour), time.Minute); !got.Equal(*r.ResolvedAt) {
		t.Errorf("resolved endsAt %v, want %v", got, *r.ResolvedAt)
	}
	if got := EndsAt(sample(), now, 0); !got.Equal(now.Add(4 * DefaultResendInterval)) {
		t.Errorf("default endsAt %v", got)
	}
}

func TestAlertIsTheSameFromEveryReplica(t *testing.T) {
	n := sample()
	a := AlertFor(n, time.Now(), time.Minute, DefaultService)
	b := AlertFor(n, time.Now().Add(17*time.Second), time.Minute, DefaultService)
	if !maps.Equal(a.Labels, b.Labels) || !maps.Equal(a.Annotations, b.Annotations) {
		t.Errorf("replicas disagree: %v vs %v", a, b)
	}
}

func TestResendRules(t *testing.T) {
	r := resolvedSample()
	at := *r.ResolvedAt
	cases := []struct {
		name string
		n    Notification
		now  time.Time
		keep bool
	}{
		{"firing", sample(), at, true},
		{"firing much later", sample(), at.Add(48 * time.Hour), true},
		{"resolved just now", r, at.Add(time.Minute), true},
		{"resolved 14m59s", r, at.Add(14*time.Minute + 59*time.Second), true},
		{"resolved 15m", r, at.Add(15 * time.Minute), false},
		{"resolved without time", Notification{State: StateResolved}, at, false},
	}
	for _, c := range cases {
		if got := KeepResending(c.n, c.now); got != c.keep {
			t.Errorf("%s: KeepResending = %v, want %v", c.name, got, c.keep)
		}
	}
}

func TestAlertmanagerPostsToEveryInstance(t *testing.T) {
	am0, am1 := newRecorder(t), newRecorder(t)
	now := time.Date(2026, 12, 1, 10, 1, 0, 0, time.UTC)
	a, err := NewAlertmanager(AlertmanagerConfig{URLs: []string{am0.URL, am1.URL + "/prefix/"}, ResendInterval: Duration(30 * time.Second)}, Deps{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	for i, rec := range []*recorder{am0, am1} {
		reqs := rec.requests()
		if len(reqs) != 1 {
			t.Fatalf("instance %d: %d requests", i, len(reqs))
		}
		if want := []string{"/api/v2/alerts", "/prefix/api/v2/alerts"}[i]; reqs[0].Path != want || reqs[0].Method != "POST" {
			t.Errorf("instance %d: %s %s, want POST %s", i, reqs[0].Method, reqs[0].Path, want)
		}
		var alerts []AlertmanagerAlert
		if err := json.Unmarshal(reqs[0].Body, &alerts); err != nil || len(alerts) != 1 {
			t.Fatalf("body %s: %v", reqs[0].Body, err)
		}
		if !alerts[0].EndsAt.Equal(now.Add(2*time.Minute)) || alerts[0].Labels["alertname"] != "DatabaseDown" {
			t.Errorf("alert %+v", alerts[0])
		}
	}
}

func TestAlertmanagerFailsIfAnyInstanceFails(t *testing.T) {
	ok := newRecorder(t)
	busy := newRecorder(t, reply{code: 503, header: map[string]string{"Retry-After": "5"}})
	a, err := NewAlertmanager(AlertmanagerConfig{URLs: []string{ok.URL, busy.URL}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	err = a.Send(context.Background(), sample())
	e := Classify(err)
	if e == nil || !e.Retryable() || e.RetryAfter != 5*time.Second || !strings.Contains(err.Error(), "1 of 2 instances failed") {
		t.Fatalf("one of two busy: %v", err)
	}
	if len(ok.requests()) != 1 {
		t.Error("the healthy instance did not get the alert")
	}

	bad := newRecorder(t, reply{code: 400, body: "invalid label set"})
	a, _ = NewAlertmanager(AlertmanagerConfig{URLs: []string{ok.URL, bad.URL}}, Deps{})
	if e := Classify(a.Send(context.Background(), sample())); e == nil || e.Class != ClassPermanent {
		t.Fatalf("400: %v", e)
	}
	g0, g1 := newRecorder(t, reply{code: 410}), newRecorder(t, reply{code: 410})
	a, _ = NewAlertmanager(AlertmanagerConfig{URLs: []string{g0.URL, g1.URL}}, Deps{})
	if e := Classify(a.Send(context.Background(), sample())); e == nil || !e.Gone() {
		t.Fatalf("all gone: %v", e)
	}
}

func TestNewAlertmanagerRejectsBadConfig(t *testing.T) {
	cases := []struct {
		cfg  AlertmanagerConfig
		want string
	}{
		{AlertmanagerConfig{}, "urls: at least one"},
		{AlertmanagerConfig{URLs: []string{"http://a:9093", "am-1:9093"}}, "urls[1]"},
		{AlertmanagerConfig{URLs: []string{"http://a:9093", "http://a:9093"}}, "urls[1]: http://a:9093 listed twice"},
		{AlertmanagerConfig{URLs: []string{"http://a:9093"}, ResendInterval: -1}, "resend_interval"},
		{AlertmanagerConfig{URLs: []string{"http://a:9093"}, Timeout: -1}, "timeout"},
	}
	for _, c := range cases {
		if _, err := NewAlertmanager(c.cfg, Deps{}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}
