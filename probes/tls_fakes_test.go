package probes_test

import (
	"context"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/certs"
	"github.com/dbhealth/database-service/testsupport/fakees"
	"github.com/dbhealth/database-service/testsupport/fakemilvus"
)

// tlsCase is one TLS setting and the outcome it must give.
type tlsCase struct {
	name   string
	tls    probes.TLS
	state  probes.State
	kind   probes.ErrorKind
	reason string
}

// tlsCases are the mode checks every kind runs against a server presenting
// the wrong-host certificate signed by cs.CA.
func tlsCases(cs *certs.Set) []tlsCase {
	return []tlsCase{
		{"verify-full, right host", probes.TLS{Mode: probes.TLSVerifyFull, CAFile: cs.CA, ServerName: certs.WrongHost}, probes.StateUp, probes.ErrKindNone, ""},
		{"verify-full, wrong host", probes.TLS{Mode: probes.TLSVerifyFull, CAFile: cs.CA}, probes.StateDown, probes.ErrKindTLS, "127.0.0.1"},
		{"verify-ca ignores the host", probes.TLS{Mode: probes.TLSVerifyCA, CAFile: cs.CA}, probes.StateUp, probes.ErrKindNone, ""},
		{"verify-ca, other CA", probes.TLS{Mode: probes.TLSVerifyCA, CAFile: cs.OtherCA}, probes.StateDown, probes.ErrKindTLS, "unknown authority"},
		{"require verifies nothing", probes.TLS{Mode: probes.TLSRequire}, probes.StateUp, probes.ErrKindNone, ""},
	}
}

func runTLSCases(t *testing.T, cs *certs.Set, target func(probes.TLS) probes.Target, open probes.Opener) {
	t.Helper()
	for _, tt := range tlsCases(cs) {
		t.Run(tt.name, func(t *testing.T) {
			tg := target(tt.tls)
			c, err := open(context.Background(), tg)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			r := probes.RunProbe(context.Background(), tg, c)
			if r.State != tt.state || r.ErrorKind != tt.kind || !strings.Contains(r.Error, tt.reason) {
				t.Fatalf("got %s/%q (%s), want %s/%q naming %q", r.State, r.ErrorKind, r.Error, tt.state, tt.kind, tt.reason)
			}
		})
	}
}

func TestElasticsearchTLSModes(t *testing.T) {
	cs := certs.New(t)
	fake := fakees.NewTLS(t, certs.ServerConfig(t, cs.WrongHostCert, cs.WrongHostKey))
	runTLSCases(t, cs, func(s probes.TLS) probes.Target {
		tg := esTarget(fake.URL())
		tg.TLS = s
		return tg
	}, probes.OpenElasticsearch)

	// An https:// URL with no mode is Go's default verification (the
	// system roots here, which do not know the test CA).
	tg := esTarget(fake.URL())
	probes.RequireOpenProbe(t, probes.OpenElasticsearch, tg, probes.StateDown, probes.ErrKindTLS)
}

func TestMilvusTLSModes(t *testing.T) {
	cs := certs.New(t)
	fake := fakemilvus.NewTLS(t, certs.ServerConfig(t, cs.WrongHostCert, cs.WrongHostKey))
	runTLSCases(t, cs, func(s probes.TLS) probes.Target {
		tg := milvusTarget(fake.Host(), fake.Port())
		tg.TLS = s
		return tg
	}, probes.OpenMilvus)

	// Plain text against the TLS server fails (never UP).
	tg := milvusTarget(fake.Host(), fake.Port())
	r := probes.RunProbe(context.Background(), tg, probes.OpenForTest(t, probes.OpenMilvus, tg))
	if r.State != probes.StateDown {
		t.Fatalf("plain against TLS: %s, want DOWN", r.State)
	}
}
