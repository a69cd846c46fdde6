package notify

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/testsupport/certs"
)

// TestDocsExamplesParse keeps the receiver examples of docs/receivers.md
// valid: their YAML blocks, put together, are one good configuration.
func TestDocsExamplesParse(t *testing.T) {
	md, err := os.ReadFile("../docs/receivers.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(md), -1)
	var doc strings.Builder
	n := 0
	for _, b := range blocks {
		if !strings.Contains(b[1], "kind:") {
			continue
		}
		doc.WriteString(b[1])
		n++
	}
	if n != 4 {
		t.Fatalf("found %d receiver examples, want one per kind", n)
	}
	yaml := strings.ReplaceAll(doc.String(), "/etc/ssl/corp-ca.pem", certs.New(t).CA)
	c, err := ParseConfig([]byte(yaml))
	if err != nil {
		t.Fatalf("docs example does not parse: %v\n%s", err, yaml)
	}
	kinds := map[ReceiverKind]bool{}
	for _, r := range c.Receivers {
		kinds[r.Kind] = true
	}
	if len(kinds) != len(ReceiverKinds) {
		t.Errorf("examples cover %v", kinds)
	}
}

// TestDocsGoVerifierIsTheExample keeps the Go verifier of
// docs/receivers.md identical to the one Example_verifyWebhook runs.
func TestDocsGoVerifierIsTheExample(t *testing.T) {
	md, err := os.ReadFile("../docs/receivers.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_verify_test.go")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```go\n(.*?)```").FindSubmatch(md)
	if m == nil || !strings.Contains(string(src), string(m[1])) {
		t.Error("the go block of docs/receivers.md differs from verifyWebhook in example_verify_test.go")
	}
}
