package probes_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/probes"
)

// assertNoSecret fails if pw appears anywhere in r, printed or as JSON.
func assertNoSecret(t *testing.T, r probes.Result, pw string) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{string(b), fmt.Sprintf("%+v", r), fmt.Sprintf("%#v", r), r.Error, r.Reason} {
		if strings.Contains(s, pw) {
			t.Fatalf("password found in result: %s", s)
		}
	}
}
