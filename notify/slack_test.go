package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/config/secret"
)

func TestSlackPostsText(t *testing.T) {
	rec := newRecorder(t)
	s, err := NewSlack(SlackConfig{URL: secret.String(rec.URL + "/hooks/T000/B000/XXXX"), Username: "dbhealth", IconEmoji: ":fire:", Channel: "#dba"}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	reqs := rec.requests()
	if len(reqs) != 1 || reqs[0].Path != "/hooks/T000/B000/XXXX" || reqs[0].Header.Get("Content-Type") != "application/json" {
		t.Fatalf("requests %+v", reqs)
	}
	var p map[string]string
	if err := json.Unmarshal(reqs[0].Body, &p); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p["text"], "[FIRING:critical] postgres/orders is DOWN\n") || !strings.Contains(p["text"], "Reason: connect: connection refused") {
		t.Errorf("text %q", p["text"])
	}
	if p["username"] != "dbhealth" || p["icon_emoji"] != ":fire:" || p["channel"] != "#dba" {
		t.Errorf("payload %s", reqs[0].Body)
	}
}

func TestSlackOmitsOptionalFields(t *testing.T) {
	rec := newRecorder(t)
	s, err := NewSlack(SlackConfig{URL: secret.String(rec.URL), Template: TemplateConfig{Title: "t", Body: "{{.Condition}}"}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), resolvedSample()); err != nil {
		t.Fatal(err)
	}
	if got := string(rec.requests()[0].Body); got != `{"text":"t\nUP"}` {
		t.Errorf("body %s", got)
	}
}

func TestSlackErrorsHideURL(t *testing.T) {
	rec := newRecorder(t, reply{code: 404, body: "no_service"}, reply{code: 410, body: "channel_is_archived"})
	url := secret.String(rec.URL + "/hooks/T000/B000/SECRETTOKEN")
	s, err := NewSlack(SlackConfig{URL: url}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), sample())
	if e := Classify(err); e == nil || e.Class != ClassPermanent || !strings.Contains(err.Error(), "no_service") {
		t.Fatalf("404: %v", err)
	}
	if e := Classify(s.Send(context.Background(), sample())); e == nil || !e.Gone() {
		t.Fatalf("410: %v", e)
	}
	refused, _ := NewSlack(SlackConfig{URL: "http://127.0.0.1:1/hooks/SECRETTOKEN"}, Deps{})
	rerr := refused.Send(context.Background(), sample())
	if e := Classify(rerr); e == nil || !e.Retryable() {
		t.Fatalf("refused: %v", rerr)
	}
	for _, out := range []string{err.Error(), rerr.Error(), s.String(), fmt.Sprintf("%+v", SlackConfig{URL: url})} {
		if strings.Contains(out, "SECRETTOKEN") {
			t.Errorf("leaks the webhook URL: %s", out)
		}
	}
	if _, err := NewSlack(SlackConfig{URL: "not a url/SECRETTOKEN"}, Deps{}); err == nil || strings.Contains(err.Error(), "SECRETTOKEN") || !strings.Contains(err.Error(), "url:") {
		t.Errorf("bad URL: %v", err)
	}
	if _, err := NewSlack(SlackConfig{URL: "http://x/", Template: TemplateConfig{Body: "{{"}}, Deps{}); err == nil || !strings.Contains(err.Error(), "template.body") {
		t.Errorf("bad template: %v", err)
	}
}
