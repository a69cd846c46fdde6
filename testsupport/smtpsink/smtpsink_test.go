package smtpsink

import (
	"crypto/tls"
	"crypto/x509"
	"net/smtp"
	"os"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/testsupport/certs"
)

func TestSinkSTARTTLSAndAuth(t *testing.T) {
	set := certs.New(t)
	s := Start(t, Options{TLS: certs.ServerConfig(t, set.ServerCert, set.ServerKey), Username: "u", Password: "p"})
	pem, err := os.ReadFile(set.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@x.test"); err == nil {
		t.Fatal("MAIL accepted without AUTH")
	}
	if err := c.StartTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Auth(smtp.PlainAuth("", "u", "p", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("a@x.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("b@x.test"); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("Subject: hi\r\n\r\nbody\r\n"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_ = c.Quit()
	msgs := s.Messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "u" || msgs[0].From != "a@x.test" || !strings.Contains(string(msgs[0].Data), "body") {
		t.Fatalf("messages %+v", msgs)
	}
}

func TestSinkWrongPassword(t *testing.T) {
	s := Start(t, Options{Username: "u", Password: "p"})
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", "u", "wrong", "127.0.0.1")); err == nil || !strings.HasPrefix(err.Error(), "535") {
		t.Fatalf("wrong password: %v", err)
	}
}
