package notify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"strconv"
	"time"

	"github.com/dbhealth/database-service/config/secret"
)

// The STARTTLS modes of the e-mail receiver.
const (
	// StartTLSRequired: upgrade with STARTTLS or fail (permanently) if
	// the server does not offer it. The default.
	StartTLSRequired = "required"
	// StartTLSOpportunistic: upgrade when the server offers STARTTLS,
	// carry on in clear otherwise.
	StartTLSOpportunistic = "opportunistic"
	// StartTLSNone: never upgrade. AUTH is then refused except towards
	// localhost, where net/smtp allows it.
	StartTLSNone = "none"
	// ImplicitTLS: TLS from the first byte (SMTPS, RFC 8314), no STARTTLS.
	// The default on port 465.
	ImplicitTLS = "tls"
)

// DefaultSMTPPort is the submission port; ImplicitTLSPort the submission
// port over implicit TLS.
const (
	DefaultSMTPPort = 587
	ImplicitTLSPort = 465
)

// EmailConfig configures the e-mail receiver: SMTP submission with
// STARTTLS and AUTH PLAIN, one multipart/alternative message (plain text
// and HTML) per notification to every recipient.
type EmailConfig struct {
	// Host and Port of the SMTP server; Port is DefaultSMTPPort when 0.
	Host string `yaml:"host" json:"host"`
	Port int    `yaml:"port,omitempty" json:"port,omitempty"`
	// StartTLS is required (the default), opportunistic, none, or tls:
	// implicit TLS (the default on port 465, and the port when 0).
	StartTLS string `yaml:"starttls,omitempty" json:"starttls,omitempty"`
	// CAFile is a PEM bundle of the CAs to verify the server with; the
	// system roots when empty.
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	// Username and Password, when Username is set, authenticate with
	// AUTH PLAIN.
	Username string        `yaml:"username,omitempty" json:"username,omitempty"`
	Password secret.String `yaml:"password,omitempty" json:"password,omitempty"`
	// From is the sender ("Database health <dbhealth@example.com>").
	From string `yaml:"from" json:"from"`
	// To are the recipients; at least one.
	To []string `yaml:"to" json:"to"`
	// Hello is the name given in EHLO; "localhost" when empty.
	Hello string `yaml:"hello,omitempty" json:"hello,omitempty"`
	// Timeout bounds one whole attempt; DefaultTimeout when zero.
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
	// Template overrides the subject (title) and body.
	Template TemplateConfig `yaml:"template,omitempty" json:"template,omitempty"`
}

// Email is the e-mail receiver.
type Email struct {
	addr, host, hello string
	mode              string
	tls               *tls.Config
	// auth is a pointer, so even %+v of an Email shows no password.
	auth    smtp.Auth
	from    *mail.Address
	to      []*mail.Address
	timeout time.Duration
	tmpl    *Template
	now     func() time.Time
}

// NewEmail validates cfg and returns the receiver.
func NewEmail(cfg EmailConfig, deps Deps) (*Email, error) {
	var errs []error
	e := &Email{host: cfg.Host, hello: cfg.Hello, mode: cfg.StartTLS,
		timeout: cfg.Timeout.Or(DefaultTimeout), now: deps.now()}
	if e.hello == "" {
		e.hello = "localhost"
	}
	port := cfg.Port
	if e.mode == "" {
		e.mode = StartTLSRequired
		if port == ImplicitTLSPort {
			e.mode = ImplicitTLS
		}
	}
	if port == 0 {
		port = DefaultSMTPPort
		if e.mode == ImplicitTLS {
			port = ImplicitTLSPort
		}
	}
	if cfg.Host == "" {
		errs = append(errs, errors.New("host: missing"))
	}
	if port < 1 || port > 65535 {
		errs = append(errs, fmt.Errorf("port: %d out of range", cfg.Port))
	}
	e.addr = net.JoinHostPort(cfg.Host, strconv.Itoa(port))
	switch e.mode {
	case StartTLSRequired, StartTLSOpportunistic, StartTLSNone, ImplicitTLS:
	default:
		errs = append(errs, fmt.Errorf("starttls: %q is not required, opportunistic, none or tls", cfg.StartTLS))
	}
	e.tls = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		pool := x509.NewCertPool()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("ca_file: %w", err))
		case !pool.AppendCertsFromPEM(pem):
			errs = append(errs, fmt.Errorf("ca_file: no PEM certificate in %s", cfg.CAFile))
		default:
			e.tls.RootCAs = pool
		}
	}
	if cfg.Username == "" && cfg.Password.IsSet() {
		errs = append(errs, errors.New("password: set without username"))
	}
	if cfg.Username != "" && e.mode == StartTLSNone && !isLocalhost(cfg.Host) {
		errs = append(errs, errors.New("starttls: none would send the password in clear; use required"))
	}
	if from, err := mail.ParseAddress(cfg.From); err != nil {
		errs = append(errs, fmt.Errorf("from: %q: %w", cfg.From, err))
	} else {
		e.from = from
	}
	if len(cfg.To) == 0 {
		errs = append(errs, errors.New("to: at least one recipient is required"))
	}
	for i, raw := range cfg.To {
		a, err := mail.ParseAddress(raw)
		if err != nil {
			errs = append(errs, fmt.Errorf("to[%d]: %q: %w", i, raw, err))
			continue
		}
		e.to = append(e.to, a)
	}
	if cfg.Timeout < 0 {
		errs = append(errs, errors.New("timeout: negative"))
	}
	tmpl, err := NewTemplate(cfg.Template)
	if err != nil {
		errs = append(errs, fmt.Errorf("template.%w", err))
	}
	e.tmpl = tmpl
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if cfg.Username != "" {
		e.auth = &scrubbedAuth{smtp.PlainAuth("", cfg.Username, cfg.Password.Reveal(), cfg.Host), cfg.Password}
	}
	return e, nil
}

// Send delivers one message about n to every recipient, in one SMTP
// transaction. SMTP 4xx replies and network errors are retryable, 5xx
// permanent; a missing STARTTLS in required mode is permanent, and so is a
// failed TLS handshake in implicit mode (a certificate the CAs do not
// verify will not verify on the next attempt either).
func (e *Email) Send(ctx context.Context, n Notification) error {
	m, err := e.tmpl.Render(n)
	if err != nil {
		return Permanent(fmt.Errorf("email: %w", err))
	}
	msg, err := compose(e.from, e.to, n, m, e.now())
	if err != nil {
		return Permanent(fmt.Errorf("email: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", e.addr)
	if err != nil {
		return smtpError("dial", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if e.mode == ImplicitTLS {
		tc := tls.Client(conn, e.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			if ctx.Err() != nil {
				return Retryable(fmt.Errorf("email: TLS handshake: %w", err))
			}
			return Permanent(fmt.Errorf("email: TLS handshake with %s: %w", e.addr, err))
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.host)
	if err != nil {
		conn.Close()
		return smtpError("greeting", err)
	}
	defer c.Close()
	if err := e.transact(c, msg); err != nil {
		if ctx.Err() != nil {
			return Retryable(fmt.Errorf("email: %w: %w", ctx.Err(), err))
		}
		return err
	}
	return nil
}

func (e *Email) transact(c *smtp.Client, msg []byte) error {
	if err := c.Hello(e.hello); err != nil {
		return smtpError("EHLO", err)
	}
	if e.mode != StartTLSNone && e.mode != ImplicitTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(e.tls); err != nil {
				return smtpError("STARTTLS", err)
			}
		} else if e.mode == StartTLSRequired {
			return Permanent(fmt.Errorf("email: %s does not offer STARTTLS (starttls: required)", e.addr))
		}
	}
	if e.auth != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return Permanent(fmt.Errorf("email: %s does not offer AUTH", e.addr))
		}
		if err := c.Auth(e.auth); err != nil {
			return smtpError("AUTH", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return smtpError("MAIL FROM", err)
	}
	for _, to := range e.to {
		if err := c.Rcpt(to.Address); err != nil {
			return smtpError("RCPT TO "+to.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return smtpError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return smtpError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return smtpError("DATA", err)
	}
	// The message was accepted at the end of DATA; QUIT is a courtesy.
	_ = c.Quit()
	return nil
}

// smtpError classifies err from step: a 4xx reply is retryable, 5xx
// permanent, anything else as Classify says.
func smtpError(step string, err error) error {
	wrapped := fmt.Errorf("email: %s: %w", step, err)
	var te *textproto.Error
	if errors.As(err, &te) {
		c := ClassPermanent
		if te.Code >= 400 && te.Code < 500 {
			c = ClassRetryable
		}
		return &Error{Class: c, StatusCode: te.Code, Err: wrapped}
	}
	// AUTH errors come back as plain text: "535 ..." or "454 ...".
	if len(err.Error()) >= 3 {
		if code, convErr := strconv.Atoi(err.Error()[:3]); convErr == nil && code >= 400 && code < 600 {
			c := ClassPermanent
			if code < 500 {
				c = ClassRetryable
			}
			return &Error{Class: c, StatusCode: code, Err: wrapped}
		}
	}
	return Classify(wrapped)
}

// String describes the receiver without its password.
func (e *Email) String() string {
	return fmt.Sprintf("email via %s (starttls %s) to %d recipients", e.addr, e.mode, len(e.to))
}

// scrubbedAuth is AUTH PLAIN whose errors never echo the password.
type scrubbedAuth struct {
	smtp.Auth
	pass secret.String
}

// Next implements smtp.Auth.
func (a *scrubbedAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	b, err := a.Auth.Next(fromServer, more)
	if err != nil {
		err = errors.New(secret.Scrub(err.Error(), a.pass))
	}
	return b, err
}

func isLocalhost(h string) bool { return h == "localhost" || h == "127.0.0.1" || h == "::1" }

var _ Sender = (*Email)(nil)
