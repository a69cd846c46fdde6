package notify

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/testsupport/servers"
)

func newSecret(t *testing.T) (secret.String, []byte) {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return secret.String("whsec_" + base64.StdEncoding.EncodeToString(key)), key
}

// verify is an independent Standard Webhooks verifier: it accepts the
// request when any v1 signature in the header is the HMAC of
// id.timestamp.body under key.
func verify(t *testing.T, key []byte, h http.Header, body []byte) bool {
	t.Helper()
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "%s.%s.%s", h.Get("webhook-id"), h.Get("webhook-timestamp"), body)
	want := mac.Sum(nil)
	for _, part := range strings.Fields(h.Get("webhook-signature")) {
		v, sig, ok := strings.Cut(part, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func TestWebhookSendsSignedJSON(t *testing.T) {
	rec := newRecorder(t)
	sec, key := newSecret(t)
	now := time.Unix(1796120000, 0)
	w, err := NewWebhook(WebhookConfig{URL: rec.URL + "/hook", Secrets: []secret.String{sec},
		Headers: map[string]secret.String{"Authorization": "Bearer tok"}}, Deps{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	n := sample()
	if err := w.Send(context.Background(), n); err != nil {
		t.Fatalf("Send: %v", err)
	}
	reqs := rec.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/hook" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("request %s %s headers %v", r.Method, r.Path, r.Header)
	}
	if r.Header.Get("webhook-id") != n.ID || r.Header.Get("webhook-timestamp") != strconv.FormatInt(now.Unix(), 10) {
		t.Errorf("webhook-id %q timestamp %q", r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"))
	}
	if !verify(t, key, r.Header, r.Body) {
		t.Errorf("signature %q does not verify", r.Header.Get("webhook-signature"))
	}
	_, other := newSecret(t)
	if verify(t, other, r.Header, r.Body) {
		t.Error("signature verifies under an unrelated key")
	}
	if verify(t, key, r.Header, append(r.Body, ' ')) {
		t.Error("signature verifies a modified body")
	}
	var payload map[string]any
	if err := json.Unmarshal(r.Body, &payload); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "receiver", "alert_id", "state", "severity", "target", "reason", "started_at", "event_id", "link"} {
		if _, ok := payload[k]; !ok {
			t.Errorf("payload lacks %q: %s", k, r.Body)
		}
	}
	if _, ok := payload["resolved_at"]; ok {
		t.Errorf("firing payload has resolved_at: %s", r.Body)
	}
	if payload["state"] != "firing" || payload["target"].(map[string]any)["name"] != "orders" {
		t.Errorf("payload %s", r.Body)
	}
}

func TestWebhookSignatureKnownVector(t *testing.T) {
	// The example of the Standard Webhooks specification.
	key, err := SigningKey("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`), key)
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("Signature = %s, want %s", got, want)
	}
}

func TestWebhookRotationSendsEverySignature(t *testing.T) {
	oldSec, oldKey := newSecret(t)
	newSec, newKey := newSecret(t)
	r := sendRotating(t, oldSec, newSec)
	if parts := strings.Fields(r.Header.Get("webhook-signature")); len(parts) != 2 {
		t.Fatalf("signature header %q, want two signatures", r.Header.Get("webhook-signature"))
	}
	if !verify(t, oldKey, r.Header, r.Body) || !verify(t, newKey, r.Header, r.Body) {
		t.Errorf("a receiver on either key must accept %q", r.Header.Get("webhook-signature"))
	}
}

func TestWebhookRetryKeepsID(t *testing.T) {
	rec := newRecorder(t, reply{code: 503, header: map[string]string{"Retry-After": "3"}})
	sec, key := newSecret(t)
	clock := time.Unix(1796120000, 0)
	w, err := NewWebhook(WebhookConfig{URL: rec.URL, Secrets: []secret.String{sec}}, Deps{Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	if err != nil {
		t.Fatal(err)
	}
	n := sample()
	err = w.Send(context.Background(), n)
	e := Classify(err)
	if e == nil || !e.Retryable() || e.RetryAfter != 3*time.Second || e.StatusCode != 503 {
		t.Fatalf("503: %+v, want retryable after 3s", e)
	}
	if err := w.Send(context.Background(), n); err != nil {
		t.Fatalf("retry: %v", err)
	}
	reqs := rec.requests()
	if reqs[0].Header.Get("webhook-id") != reqs[1].Header.Get("webhook-id") || reqs[1].Header.Get("webhook-id") != n.ID {
		t.Errorf("webhook-id changed between attempts: %q %q", reqs[0].Header.Get("webhook-id"), reqs[1].Header.Get("webhook-id"))
	}
	if reqs[0].Header.Get("webhook-timestamp") == reqs[1].Header.Get("webhook-timestamp") {
		t.Error("retry reuses the timestamp of the first attempt")
	}
	for i, r := range reqs {
		if !verify(t, key, r.Header, r.Body) {
			t.Errorf("attempt %d: bad signature", i)
		}
	}
}

func TestWebhookErrorClasses(t *testing.T) {
	sec, _ := newSecret(t)
	cases := []struct {
		name  string
		reply reply
		class Class
		after time.Duration
	}{
		{"503 retry-after", reply{code: 503, header: map[string]string{"Retry-After": "120"}}, ClassRetryable, 2 * time.Minute},
		{"429", reply{code: 429, header: map[string]string{"Retry-After": "1"}}, ClassRetryable, time.Second},
		{"500", reply{code: 500}, ClassRetryable, 0},
		{"410", reply{code: 410, body: "endpoint deleted"}, ClassGone, 0},
		{"400", reply{code: 400, body: "bad payload"}, ClassPermanent, 0},
		{"401", reply{code: 401}, ClassPermanent, 0},
		{"302", reply{code: 302, header: map[string]string{"Location": "/elsewhere"}}, ClassPermanent, 0},
		{"timeout", reply{code: 200, delay: 2 * time.Second}, ClassRetryable, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := newRecorder(t, c.reply)
			w, err := NewWebhook(WebhookConfig{URL: rec.URL, Secrets: []secret.String{sec}, Timeout: Duration(200 * time.Millisecond)}, Deps{})
			if err != nil {
				t.Fatal(err)
			}
			err = w.Send(context.Background(), sample())
			e := Classify(err)
			if e == nil || e.Class != c.class || e.RetryAfter != c.after {
				t.Fatalf("Send = %v (%+v), want %v after %v", err, e, c.class, c.after)
			}
			if strings.Contains(err.Error(), sec.Reveal()) {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestWebhookConnectionRefusedIsRetryable(t *testing.T) {
	sec, _ := newSecret(t)
	w, err := NewWebhook(WebhookConfig{URL: fmt.Sprintf("http://127.0.0.1:%d/", servers.FreePort(t)), Secrets: []secret.String{sec}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Send(context.Background(), sample())
	if e := Classify(err); e == nil || !e.Retryable() {
		t.Fatalf("refused: %v, want retryable", err)
	}
}

func TestNewWebhookRejectsBadConfig(t *testing.T) {
	good, _ := newSecret(t)
	short := secret.String("whsec_" + base64.StdEncoding.EncodeToString([]byte("short")))
	cases := []struct {
		name string
		cfg  WebhookConfig
		want string
	}{
		{"no url", WebhookConfig{Secrets: []secret.String{good}}, "url: missing"},
		{"ftp url", WebhookConfig{URL: "ftp://x/", Secrets: []secret.String{good}}, "url: scheme"},
		{"relative url", WebhookConfig{URL: "/hook", Secrets: []secret.String{good}}, "url:"},
		{"no secret", WebhookConfig{URL: "http://x/"}, "secrets: at least one"},
		{"no prefix", WebhookConfig{URL: "http://x/", Secrets: []secret.String{"hunter2-hunter2-hunter2-hunter2"}}, "secrets[0]"},
		{"bad base64", WebhookConfig{URL: "http://x/", Secrets: []secret.String{good, "whsec_!!!notbase64!!!"}}, "secrets[1]"},
		{"short key", WebhookConfig{URL: "http://x/", Secrets: []secret.String{short}}, "secrets[0]"},
		{"reserved header", WebhookConfig{URL: "http://x/", Secrets: []secret.String{good}, Headers: map[string]secret.String{"webhook-id": "x"}}, "headers.webhook-id"},
		{"header newline", WebhookConfig{URL: "http://x/", Secrets: []secret.String{good}, Headers: map[string]secret.String{"X-A": "a\r\nB: c"}}, "headers.X-A"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewWebhook(c.cfg, Deps{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewWebhook = %v, want an error containing %q", err, c.want)
			}
			for _, s := range c.cfg.Secrets {
				if strings.Contains(err.Error(), strings.TrimPrefix(s.Reveal(), "whsec_")) {
					t.Errorf("error leaks a secret: %v", err)
				}
			}
		})
	}
}

func TestWebhookStringAndJSONHideSecrets(t *testing.T) {
	sec, _ := newSecret(t)
	cfg := WebhookConfig{URL: "http://user:pw@hooks.example/x", Secrets: []secret.String{sec}, Headers: map[string]secret.String{"Authorization": "Bearer tok"}}
	w, err := NewWebhook(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	js, _ := json.Marshal(cfg)
	for _, out := range []string{w.String(), fmt.Sprintf("%v %+v %+v", w, cfg, *w), string(js)} {
		if strings.Contains(out, sec.Reveal()[6:]) || strings.Contains(out, "Bearer tok") {
			t.Errorf("output leaks a secret: %s", out)
		}
	}
	if strings.Contains(w.String(), "pw@") {
		t.Errorf("String leaks the URL password: %s", w)
	}
}

func TestWebhookRejectsNotificationWithoutID(t *testing.T) {
	sec, _ := newSecret(t)
	w, _ := NewWebhook(WebhookConfig{URL: "http://127.0.0.1:1/", Secrets: []secret.String{sec}}, Deps{})
	n := sample()
	n.ID = ""
	if e := Classify(w.Send(context.Background(), n)); e == nil || e.Class != ClassPermanent {
		t.Fatalf("no id: %v", e)
	}
}

// sendRotating sends the sample through a webhook signing with two
// secrets (a rotation) and returns the request its receiver got.
func sendRotating(t *testing.T, oldSec, newSec secret.String) recorded {
	t.Helper()
	rec := newRecorder(t)
	w, err := NewWebhook(WebhookConfig{URL: rec.URL, Secrets: []secret.String{oldSec, newSec}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Send(context.Background(), sample()); err != nil {
		t.Fatal(err)
	}
	return rec.requests()[0]
}

// A webhook URL's path and query often carry a token: errors show only
// the scheme and host.
func TestWebhookErrorsHideThePath(t *testing.T) {
	sec, _ := newSecret(t)
	w, err := NewWebhook(WebhookConfig{URL: "http://127.0.0.1:1/hooks/T0K3Nsecret?key=Q5ecret", Secrets: []secret.String{sec}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Send(context.Background(), sample())
	if err == nil || strings.Contains(err.Error(), "T0K3N") || strings.Contains(err.Error(), "Q5ecret") ||
		strings.Contains(w.String(), "T0K3N") || !strings.Contains(err.Error(), "http://127.0.0.1:1/…") {
		t.Errorf("error %v, String %s: want the host only", err, w.String())
	}
}
