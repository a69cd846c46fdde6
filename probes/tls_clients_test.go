package probes

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/certs"
)

// tlsListener accepts TLS connections with the wrong-host certificate and
// closes them after the handshake (it speaks no protocol).
func tlsListener(t *testing.T, cs *certs.Set) (string, int) {
	t.Helper()
	lis, err := tls.Listen("tcp", "127.0.0.1:0", certs.ServerConfig(t, cs.WrongHostCert, cs.WrongHostKey))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lis.Close() })
	go func() {
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(2 * time.Second))
				_, _ = io.CopyN(io.Discard, c, 8) // the AMQP header, after the handshake
			}()
		}
	}()
	a := lis.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

func TestRabbitMQTLSModes(t *testing.T) {
	cs := certs.New(t)
	host, port := tlsListener(t, cs)
	for _, tt := range []struct {
		name    string
		tls     TLS
		wantTLS bool
	}{
		{"verify-full, wrong host", TLS{Mode: TLSVerifyFull, CAFile: cs.CA}, true},
		{"verify-ca, other CA", TLS{Mode: TLSVerifyCA, CAFile: cs.OtherCA}, true},
		{"verify-ca passes the handshake", TLS{Mode: TLSVerifyCA, CAFile: cs.CA}, false},
		{"require passes the handshake", TLS{Mode: TLSRequire}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tg := Target{Kind: RabbitMQ, Name: "tls", Host: host, Port: port, Username: "u", Password: "p", Timeout: 2 * time.Second, TLS: tt.tls}
			r := RunProbe(context.Background(), tg, openForTest(t, OpenRabbitMQ, tg))
			if r.State != StateDown || (r.ErrorKind == ErrKindTLS) != tt.wantTLS {
				t.Fatalf("got %s/%q (%s), want DOWN with tls=%v", r.State, r.ErrorKind, r.Error, tt.wantTLS)
			}
		})
	}
}

func TestRabbitMQManagementTLS(t *testing.T) {
	cs := certs.New(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	srv.TLS = certs.ServerConfig(t, cs.WrongHostCert, cs.WrongHostKey)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	for _, tt := range []struct {
		name   string
		tls    TLS
		ok     bool
		reason string
	}{
		{"verify-ca", TLS{Mode: TLSVerifyCA, CAFile: cs.CA}, true, ""},
		{"verify-full with the host", TLS{Mode: TLSVerifyFull, CAFile: cs.CA, ServerName: certs.WrongHost}, true, ""},
		{"verify-full, wrong host", TLS{Mode: TLSVerifyFull, CAFile: cs.CA}, false, "127.0.0.1"},
		{"no mode: Go's default verification", TLS{}, false, "x509"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := newRabbitManagement(Target{ManagementURL: srv.URL, Username: "u", Password: "p", TLS: tt.tls})
			if err != nil {
				t.Fatal(err)
			}
			defer m.close()
			got := m.check(context.Background(), "alarms")
			if got.OK != tt.ok || !strings.Contains(got.Reason, tt.reason) {
				t.Fatalf("check = %+v, want ok=%v naming %q", got, tt.ok, tt.reason)
			}
		})
	}
}

func TestNacosTLSSide(t *testing.T) {
	cs := certs.New(t)
	plain, err := newNacosTLS(Target{})
	if err != nil || plain.scheme != "http" || plain.http != nil {
		t.Fatalf("plain: %+v, %v", plain, err)
	}
	tg := Target{TLS: TLS{Mode: TLSVerifyCA, CAFile: cs.CA, CertFile: cs.ClientCert, KeyFile: cs.ClientKey}}
	side, err := newNacosTLS(tg)
	if err != nil || side.scheme != "https" || side.http == nil || side.http.VerifyConnection == nil || len(side.http.Certificates) != 1 {
		t.Fatalf("verify-ca: %+v, %v", side, err)
	}
	sdk := nacosSDKTLS(tg)
	if !sdk.Appointed || !sdk.Enable || sdk.TrustAll || sdk.CaFile != cs.CA || sdk.CertFile != cs.ClientCert {
		t.Fatalf("SDK TLS = %+v", sdk)
	}
	if s := nacosSDKTLS(Target{TLS: TLS{Mode: TLSRequire}}); !s.TrustAll || !s.Enable {
		t.Fatalf("require: SDK TLS = %+v", s)
	}
	if _, err := newNacosTLS(Target{TLS: TLS{Mode: TLSRequire, CertFile: cs.ClientCert}}); Classify(err) != ErrKindConfig {
		t.Fatalf("cert without key: %v, want a config error", err)
	}
}
