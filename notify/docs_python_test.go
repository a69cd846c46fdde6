package notify

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDocsPythonVerifierAcceptsRealRequests runs the Python verifier of
// docs/receivers.md on requests the webhook receiver really sent.
func TestDocsPythonVerifierAcceptsRealRequests(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("DBHEALTH_REQUIRE_ALL") == "1" {
			t.Fatal("python3 not found; DBHEALTH_REQUIRE_ALL=1 forbids skipping")
		}
		t.Skip("python3 not found")
	}
	md, err := os.ReadFile("../docs/receivers.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```python\n(.*?)```").FindSubmatch(md)
	if m == nil {
		t.Fatal("no python block in docs/receivers.md")
	}
	oldSec, _ := newSecret(t)
	newSec, _ := newSecret(t)
	r := sendRotating(t, oldSec, newSec)
	in, _ := json.Marshal(map[string]any{
		"headers": map[string]string{
			"webhook-id":        r.Header.Get("webhook-id"),
			"webhook-timestamp": r.Header.Get("webhook-timestamp"),
			"webhook-signature": r.Header.Get("webhook-signature"),
		},
		"body":    string(r.Body),
		"secrets": []string{oldSec.Reveal(), newSec.Reveal(), "whsec_" + strings.Repeat("A", 32)},
	})
	script := string(m[1]) + `
import json, sys
req = json.load(sys.stdin)
body = req["body"].encode()
print(" ".join(str(verify(s, req["headers"], body)) for s in req["secrets"]),
      verify(req["secrets"][0], req["headers"], body + b" "))
`
	path := filepath.Join(t.TempDir(), "verify.py")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, path)
	cmd.Stdin = strings.NewReader(string(in))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "True True False False" {
		t.Errorf("python verifier says %q, want both rotation secrets accepted, an unrelated one and a modified body rejected", got)
	}
}
