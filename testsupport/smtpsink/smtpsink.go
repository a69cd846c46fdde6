// Package smtpsink is an SMTP server for tests that keeps every message it
// accepts: STARTTLS when given a certificate, AUTH PLAIN when given a
// username, and scripted rejections.
package smtpsink

import (
	"crypto/tls"
	"errors"
	"io"
	"log"
	"net"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a Sink.
type Options struct {
	// TLS, when set, offers STARTTLS with it. AUTH is then only allowed
	// after STARTTLS.
	TLS *tls.Config
	// Implicit, with TLS, speaks TLS from the first byte instead (SMTPS,
	// port 465 style), without offering STARTTLS.
	Implicit bool
	// Username and Password, when Username is set, make AUTH PLAIN
	// mandatory before MAIL.
	Username, Password string
	// RcptError, when set, is called for every RCPT TO; a non-nil result
	// (for instance a *smtp.SMTPError with code 450 or 550) rejects it.
	RcptError func(to string) error
}

// Message is one accepted message.
type Message struct {
	From string
	To   []string
	// Data is the message as received (headers and body).
	Data []byte
	// TLS tells whether the session ran over TLS (STARTTLS or implicit).
	TLS bool
	// User is the authenticated username, "" without AUTH.
	User string
}

// Sink is a running SMTP server on 127.0.0.1.
type Sink struct {
	// Addr is "127.0.0.1:<port>"; Host and Port are its parts.
	Addr string
	Host string
	Port int

	opts Options
	mu   sync.Mutex
	msgs []Message
}

// Start runs a Sink until the test ends.
func Start(t testing.TB, opts Options) *Sink {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtpsink: %v", err)
	}
	s := &Sink{Addr: l.Addr().String(), Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{sink: s, conn: c}, nil
	}))
	srv.Domain = "smtpsink.test"
	srv.TLSConfig = opts.TLS
	if opts.Implicit && opts.TLS != nil {
		l = tls.NewListener(l, opts.TLS)
		srv.TLSConfig = nil
	}
	srv.AllowInsecureAuth = opts.TLS == nil
	srv.MaxMessageBytes = 1 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() { _ = srv.Serve(l); close(done) }()
	t.Cleanup(func() { _ = srv.Close(); <-done })
	return s
}

// Messages returns the messages accepted so far.
func (s *Sink) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

type session struct {
	sink *Sink
	conn *smtp.Conn
	user string
	msg  Message
}

// AuthMechanisms implements smtp.AuthSession.
func (s *session) AuthMechanisms() []string {
	if s.sink.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

// Auth implements smtp.AuthSession.
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.sink.opts.Username || pass != s.sink.opts.Password {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

// Mail implements smtp.Session; it requires AUTH when configured.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.sink.opts.Username != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	_, tlsOn := s.conn.TLSConnectionState()
	s.msg = Message{From: from, TLS: tlsOn, User: s.user}
	return nil
}

// Rcpt implements smtp.Session, consulting Options.RcptError.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if f := s.sink.opts.RcptError; f != nil {
		if err := f(to); err != nil {
			return err
		}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

// Data implements smtp.Session and keeps the message.
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(s.msg.To) == 0 {
		return errors.New("smtpsink: no recipients")
	}
	s.msg.Data = b
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, s.msg)
	s.sink.mu.Unlock()
	s.msg = Message{}
	return nil
}

// Reset implements smtp.Session.
func (s *session) Reset() { s.msg = Message{} }

// Logout implements smtp.Session.
func (s *session) Logout() error { return nil }
