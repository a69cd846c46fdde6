package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/probes/report"
)

// TestProbeCommand runs `database-service probe` against the machine's
// PostgreSQL, Redis and RabbitMQ: three UP rows with versions and exit 0;
// with a wrong RabbitMQ password, DOWN/auth without the password and exit 1.
func TestProbeCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's PostgreSQL, Redis and RabbitMQ")
	}
	env := map[string]string{
		"POSTGRES_HOST": "127.0.0.1", "POSTGRES_DB": "test", "REDIS_HOST": "127.0.0.1", "RABBITMQ_HOST": "127.0.0.1",
		"ELASTICSEARCH_ENABLED": "false", "MILVUS_ENABLED": "false", "NACOS_ENABLED": "false",
	}
	run1 := func(extra map[string]string, args ...string) (int, string, string) {
		e := map[string]string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range extra {
			e[k] = v
		}
		var out, errOut bytes.Buffer
		code := run(context.Background(), append([]string{"probe"}, args...), e, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	code, out, stderr := run1(nil)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("want a header and three rows:\n%s", out)
	}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if f[3] != "UP" || f[5] == "-" {
			t.Errorf("row not UP with a version: %s", l)
		}
	}
	t.Logf("\n%s", out)

	const pw = "wrong-pw-canary-41"
	code, out, stderr = run1(map[string]string{"RABBITMQ_PASSWORD": pw}, "-json")
	if code != 1 {
		t.Fatalf("exit %d with a wrong password, want 1\n%s\n%s", code, out, stderr)
	}
	if strings.Contains(out+stderr, pw) {
		t.Fatal("the password was printed")
	}
	var rows []report.Result
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Type == "rabbitmq" && (r.State != "DOWN" || r.ErrorKind != "auth") {
			t.Fatalf("rabbitmq with a wrong password: %+v", r)
		}
	}
}

// TestCheckConfig validates and prints the configuration with secrets
// masked, and rejects a bad value naming the variable.
func TestCheckConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"-check-config"}, map[string]string{
		"POSTGRES_PASSWORD": "pg-canary-77", "API_TOKEN": "tok-canary-77", "APP_ENV": "production",
	}, &out, &errOut)
	if code != 0 || !strings.Contains(out.String(), `"******"`) || strings.Contains(out.String(), "canary-77") {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	out.Reset()
	errOut.Reset()
	code = run(context.Background(), []string{"-check-config"}, map[string]string{"DB_SERVICE_PORT": "abc"}, &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), `DB_SERVICE_PORT: must be 1-65535, got "abc"`) {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
}
