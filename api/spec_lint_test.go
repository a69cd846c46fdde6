package api_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// redocly finds the redocly CLI: $REDOCLY, then .tools/redocly (where
// .ci/run installs it with npm), then $PATH. Tests skip without it.
func redocly(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("REDOCLY"); p != "" {
		return p
	}
	if p, err := filepath.Abs("../.tools/redocly/node_modules/.bin/redocly"); err == nil {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("redocly"); err == nil {
		return p
	}
	if os.Getenv("DBHEALTH_REQUIRE_ALL") == "1" {
		t.Fatal("redocly not installed (.ci/run installs it: npm install --prefix .tools/redocly @redocly/cli@2.77.0)")
	}
	t.Skip("redocly not installed (npm install --prefix .tools/redocly @redocly/cli)")
	return ""
}

// lint runs redocly's recommended rules (redocly.yaml, with the exceptions
// of .redocly.lint-ignore.yaml) on spec from the repository's root.
func lint(t *testing.T, bin, spec string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, "lint", "--format=stylish", spec)
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(), "REDOCLY_TELEMETRY=off", "REDOCLY_SUPPRESS_UPDATE_NOTICE=true")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestOpenAPIPassesRedoclyRecommended: no error and no warning.
func TestOpenAPIPassesRedoclyRecommended(t *testing.T) {
	bin := redocly(t)
	out, err := lint(t, bin, "schemas/openapi.yaml")
	if err != nil || strings.Contains(out, " warning ") || strings.Contains(out, " error ") {
		t.Fatalf("redocly lint: %v\n%s", err, out)
	}
}

// TestRedoclyLintCatchesAProblem: the same lint fails a copy of the
// document without its servers, so the test above can fail.
func TestRedoclyLintCatchesAProblem(t *testing.T) {
	bin := redocly(t)
	b, err := os.ReadFile("../schemas/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.Replace(string(b), "servers:\n  - url: /\n", "x-servers:\n  - url: /\n", 1)
	if doc == string(b) {
		t.Fatal("the document has no servers block to remove")
	}
	dir, err := os.MkdirTemp("..", ".lint-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	spec := filepath.Join(dir, "openapi.yaml")
	if err := os.WriteFile(spec, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	rel, _ := filepath.Rel("..", spec)
	out, err := lint(t, bin, rel)
	if err == nil || !strings.Contains(out, "no-empty-servers") {
		t.Fatalf("redocly lint passed a document without servers: %v\n%s", err, out)
	}
}
