package notify

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/certs"
	"github.com/dbhealth/database-service/testsupport/servers"
	"github.com/dbhealth/database-service/testsupport/smtpsink"
	"github.com/emersion/go-smtp"
)

func tlsSink(t *testing.T, opts smtpsink.Options) (*smtpsink.Sink, *certs.Set) {
	t.Helper()
	set := certs.New(t)
	opts.TLS = certs.ServerConfig(t, set.ServerCert, set.ServerKey)
	return smtpsink.Start(t, opts), set
}

func emailConfig(s *smtpsink.Sink) EmailConfig {
	return EmailConfig{Host: s.Host, Port: s.Port, From: "Database health <dbhealth@example.com>", To: []string{"dba@example.com", "Ops <ops@example.com>"}}
}

func TestEmailSTARTTLSAuthMultipart(t *testing.T) {
	sink, set := tlsSink(t, smtpsink.Options{Username: "notifier", Password: "s3cret-pass"})
	cfg := emailConfig(sink)
	cfg.CAFile, cfg.Username, cfg.Password = set.CA, "notifier", "s3cret-pass"
	now := time.Date(2026, 12, 1, 10, 0, 30, 0, time.UTC)
	e, err := NewEmail(cfg, Deps{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	n := sample()
	n.Reason = `timeout <after 5s> & "retries" — ünïcode`
	n.Target.Name = "orders-é"
	if err := e.Send(context.Background(), n); err != nil {
		t.Fatalf("Send: %v", err)
	}
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if !got.TLS || got.User != "notifier" || got.From != "dbhealth@example.com" || strings.Join(got.To, ",") != "dba@example.com,ops@example.com" {
		t.Fatalf("envelope %+v", got)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(got.Data)))
	if err != nil {
		t.Fatal(err)
	}
	h := msg.Header
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != "[FIRING:critical] postgres/orders-é is DOWN" {
		t.Errorf("Subject %q (%q): %v", h.Get("Subject"), subject, err)
	}
	if d, err := h.Date(); err != nil || !d.Equal(now) {
		t.Errorf("Date %q: %v", h.Get("Date"), err)
	}
	if id := h.Get("Message-ID"); id != MessageID(n.ID, "dbhealth@example.com") || !strings.HasSuffix(id, "@example.com>") {
		t.Errorf("Message-ID %q", id)
	}
	if to, err := h.AddressList("To"); err != nil || len(to) != 2 || to[1].Name != "Ops" {
		t.Errorf("To %q: %v", h.Get("To"), err)
	}
	if from, err := h.AddressList("From"); err != nil || from[0].Name != "Database health" {
		t.Errorf("From %q: %v", h.Get("From"), err)
	}
	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	var order []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p) // quoted-printable is decoded by the reader
		if err != nil {
			t.Fatal(err)
		}
		ct, cp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if cp["charset"] != "utf-8" {
			t.Errorf("%s charset %q", ct, cp["charset"])
		}
		parts[ct] = string(body)
		order = append(order, ct)
	}
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Fatalf("parts %v, want text/plain then text/html", order)
	}
	if txt := parts["text/plain"]; !strings.Contains(txt, "Reason: "+n.Reason) || !strings.Contains(txt, "Alert: postgres/orders:1:3") {
		t.Errorf("text part:\n%s", txt)
	}
	html := parts["text/html"]
	if !strings.Contains(html, "timeout &lt;after 5s&gt; &amp; &#34;retries&#34; — ünïcode") || strings.Contains(html, "<after 5s>") {
		t.Errorf("html part not escaped:\n%s", html)
	}
	if !strings.Contains(html, "<h2>[FIRING:critical] postgres/orders-é is DOWN</h2>") {
		t.Errorf("html part lacks the title:\n%s", html)
	}
}

func TestEmailSTARTTLSModes(t *testing.T) {
	plain := smtpsink.Start(t, smtpsink.Options{})
	withTLS, set := tlsSink(t, smtpsink.Options{})

	cases := []struct {
		name    string
		sink    *smtpsink.Sink
		mode    string
		class   Class // 0: success
		wantTLS bool
	}{
		{"required without offer", plain, StartTLSRequired, ClassPermanent, false},
		{"opportunistic without offer", plain, StartTLSOpportunistic, 0, false},
		{"opportunistic with offer", withTLS, StartTLSOpportunistic, 0, true},
		{"required with offer", withTLS, StartTLSRequired, 0, true},
		{"none with offer", withTLS, StartTLSNone, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := len(c.sink.Messages())
			cfg := emailConfig(c.sink)
			cfg.StartTLS, cfg.CAFile = c.mode, set.CA
			e, err := NewEmail(cfg, Deps{})
			if err != nil {
				t.Fatal(err)
			}
			err = e.Send(context.Background(), sample())
			msgs := c.sink.Messages()
			if c.class != 0 {
				if e := Classify(err); e == nil || e.Class != c.class {
					t.Fatalf("Send = %v, want %v", err, c.class)
				}
				if len(msgs) != before {
					t.Fatal("a message was delivered anyway")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != before+1 || msgs[len(msgs)-1].TLS != c.wantTLS {
				t.Fatalf("messages %d→%d, TLS %v, want %v", before, len(msgs), msgs[len(msgs)-1].TLS, c.wantTLS)
			}
		})
	}
}

func TestEmailErrorClasses(t *testing.T) {
	sink, set := tlsSink(t, smtpsink.Options{Username: "u", Password: "right-password", RcptError: func(to string) error {
		switch {
		case strings.HasPrefix(to, "full@"):
			return &smtp.SMTPError{Code: 452, Message: "mailbox full, try later"}
		case strings.HasPrefix(to, "nobody@"):
			return &smtp.SMTPError{Code: 550, Message: "no such user"}
		}
		return nil
	}})
	send := func(mod func(*EmailConfig)) error {
		cfg := emailConfig(sink)
		cfg.CAFile, cfg.Username, cfg.Password = set.CA, "u", "right-password"
		mod(&cfg)
		e, err := NewEmail(cfg, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		return e.Send(context.Background(), sample())
	}
	cases := []struct {
		name  string
		mod   func(*EmailConfig)
		class Class
		code  int
	}{
		{"wrong password", func(c *EmailConfig) { c.Password = "wrong-password-123" }, ClassPermanent, 535},
		{"rcpt 452", func(c *EmailConfig) { c.To = []string{"full@example.com"} }, ClassRetryable, 452},
		{"rcpt 550", func(c *EmailConfig) { c.To = []string{"dba@example.com", "nobody@example.com"} }, ClassPermanent, 550},
		{"untrusted certificate", func(c *EmailConfig) { c.CAFile = set.OtherCA }, ClassPermanent, 0},
		{"connection refused", func(c *EmailConfig) { c.Port = servers.FreePort(t) }, ClassRetryable, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := send(c.mod)
			e := Classify(err)
			if e == nil || e.Class != c.class || e.StatusCode != c.code {
				t.Fatalf("Send = %v (%+v), want %v code %d", err, e, c.class, c.code)
			}
			if strings.Contains(err.Error(), "password-123") || strings.Contains(err.Error(), "right-password") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
	if n := len(sink.Messages()); n != 0 {
		t.Errorf("%d messages delivered, want 0", n)
	}
}

func TestEmailTimeout(t *testing.T) {
	// A server that accepts the connection and never greets.
	silent := newSilentListener(t)
	e, err := NewEmail(EmailConfig{Host: "127.0.0.1", Port: silent, From: "a@example.com", To: []string{"b@example.com"}, Timeout: Duration(300 * time.Millisecond)}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = e.Send(context.Background(), sample())
	if e := Classify(err); e == nil || !e.Retryable() {
		t.Fatalf("silent server: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %v with a 300ms timeout", d)
	}
}

func TestNewEmailRejectsBadConfig(t *testing.T) {
	good := EmailConfig{Host: "smtp.example.com", From: "a@example.com", To: []string{"b@example.com"}}
	cases := []struct {
		name string
		mod  func(*EmailConfig)
		want string
	}{
		{"no host", func(c *EmailConfig) { c.Host = "" }, "host: missing"},
		{"bad port", func(c *EmailConfig) { c.Port = 70000 }, "port:"},
		{"bad mode", func(c *EmailConfig) { c.StartTLS = "always" }, "starttls:"},
		{"clear password", func(c *EmailConfig) { c.StartTLS, c.Username, c.Password = "none", "u", "pw-in-clear" }, "starttls: none would send the password"},
		{"password alone", func(c *EmailConfig) { c.Password = "pw-alone" }, "password: set without username"},
		{"bad from", func(c *EmailConfig) { c.From = "not an address" }, "from:"},
		{"no to", func(c *EmailConfig) { c.To = nil }, "to: at least one"},
		{"bad to", func(c *EmailConfig) { c.To = []string{"ok@example.com", "@@"} }, "to[1]"},
		{"missing ca", func(c *EmailConfig) { c.CAFile = "/nonexistent/ca.pem" }, "ca_file:"},
		{"bad template", func(c *EmailConfig) { c.Template.Title = "{{.Oops" }, "template.title"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.mod(&cfg)
			_, err := NewEmail(cfg, Deps{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("NewEmail = %v, want %q", err, c.want)
			}
			if strings.Contains(err.Error(), "pw-") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
	e, err := NewEmail(EmailConfig{Host: "smtp.example.com", Username: "u", Password: "hunter2-hunter2", From: "a@example.com", To: []string{"b@example.com"}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if out := fmt.Sprintf("%v %+v", e, *e); strings.Contains(out, "hunter2") {
		t.Errorf("leaks the password: %s", out)
	}
}

// TestEmailImplicitTLS: "tls" speaks TLS from the first byte (SMTPS) and
// authenticates over it; against a server without TLS, or one whose
// certificate the CAs do not verify, the send fails permanently; port 465
// means implicit TLS, and implicit TLS means port 465.
func TestEmailImplicitTLS(t *testing.T) {
	smtps, set := tlsSink(t, smtpsink.Options{Implicit: true, Username: "notifier", Password: "s3cret-pass"})
	cfg := emailConfig(smtps)
	cfg.StartTLS, cfg.CAFile, cfg.Username, cfg.Password = ImplicitTLS, set.CA, "notifier", "s3cret-pass"
	e, err := NewEmail(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Send(context.Background(), sample()); err != nil {
		t.Fatalf("Send over implicit TLS: %v", err)
	}
	if msgs := smtps.Messages(); len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "notifier" {
		t.Fatalf("messages %+v", msgs)
	}

	plain := smtpsink.Start(t, smtpsink.Options{})
	other := certs.New(t) // a CA that did not sign the server's certificate
	for name, c := range map[string]EmailConfig{
		"a server without TLS": func() EmailConfig { c := emailConfig(plain); c.StartTLS, c.CAFile = ImplicitTLS, set.CA; return c }(),
		"an unverified certificate": func() EmailConfig {
			c := emailConfig(smtps)
			c.StartTLS, c.CAFile = ImplicitTLS, other.CA
			return c
		}(),
	} {
		c.Timeout = Duration(2 * time.Second)
		e, err := NewEmail(c, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		if e := Classify(e.Send(context.Background(), sample())); e == nil || e.Class != ClassPermanent {
			t.Errorf("%s: %v, want a permanent failure", name, e)
		}
	}
	if n := len(smtps.Messages()) + len(plain.Messages()); n != 1 {
		t.Errorf("%d messages, want only the first", n)
	}

	for _, c := range []struct {
		port     int
		mode     string
		wantMode string
		wantPort string
	}{
		{465, "", ImplicitTLS, ":465"},
		{0, ImplicitTLS, ImplicitTLS, ":465"},
		{0, "", StartTLSRequired, ":587"},
		{465, StartTLSRequired, StartTLSRequired, ":465"},
	} {
		e, err := NewEmail(EmailConfig{Host: "mail.example", Port: c.port, StartTLS: c.mode, From: "a@example.com", To: []string{"b@example.com"}}, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		if e.mode != c.wantMode || !strings.HasSuffix(e.addr, c.wantPort) {
			t.Errorf("port %d, starttls %q: mode %q at %s, want %q at %s", c.port, c.mode, e.mode, e.addr, c.wantMode, c.wantPort)
		}
	}
}
