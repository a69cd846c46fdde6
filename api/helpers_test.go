package api_test

import (
	"testing"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/testsupport/promtest"
)

func secretString(s string) secret.String { return secret.String(s) }

// parseProm parses the Prometheus text format.
func parseProm(t testing.TB, b []byte) promtest.Samples {
	t.Helper()
	s, err := promtest.Parse(string(b))
	if err != nil {
		t.Fatalf("not the Prometheus text format: %v\n%s", err, b)
	}
	return s
}
