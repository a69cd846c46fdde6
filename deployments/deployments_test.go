package deployments

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/dbhealth/database-service/config"
)

// envVars lists every variable the configuration reads.
func envVars(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	var walk func(reflect.Type)
	walk = func(rt reflect.Type) {
		for i := range rt.NumField() {
			f := rt.Field(i)
			if name, ok := f.Tag.Lookup("env"); ok {
				out[strings.Split(name, ",")[0]] = true
				continue
			}
			if f.Type.Kind() == reflect.Struct && f.IsExported() {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeOf(config.Config{}))
	if len(out) < 30 {
		t.Fatalf("found only %d variables", len(out))
	}
	return out
}

func docs(t *testing.T, path string) []map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var out []map[string]any
	for {
		var d map[string]any
		if err := dec.Decode(&d); err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("%s: %v", path, err)
		}
		if d != nil {
			out = append(out, d)
		}
	}
	return out
}

func dig(m any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			mm, ok := m.(map[string]any)
			if !ok {
				return nil
			}
			m = mm[k]
		case int:
			s, ok := m.([]any)
			if !ok || k >= len(s) {
				return nil
			}
			m = s[k]
		}
	}
	return m
}

var secretName = regexp.MustCompile(`PASSWORD|TOKEN|BUS_URL|STORE_URL`)

func TestKubernetesManifests(t *testing.T) {
	vars := envVars(t)
	byKind := map[string]map[string]any{}
	files, _ := filepath.Glob("kubernetes/*.yaml")
	if len(files) < 4 {
		t.Fatalf("manifests: %v", files)
	}
	for _, f := range files {
		for _, d := range docs(t, f) {
			kind, _ := d["kind"].(string)
			byKind[kind] = d
		}
	}
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget"} {
		if byKind[k] == nil {
			t.Fatalf("no %s manifest", k)
		}
	}
	// Every configured variable exists in the code, and no credential sits
	// in the ConfigMap.
	for k := range dig(byKind["ConfigMap"], "data").(map[string]any) {
		if !vars[k] {
			t.Errorf("ConfigMap sets %s, which the service does not read", k)
		}
		if secretName.MatchString(k) {
			t.Errorf("ConfigMap holds the credential %s: put it in the Secret", k)
		}
	}
	for k := range dig(byKind["Secret"], "stringData").(map[string]any) {
		if !vars[k] {
			t.Errorf("Secret sets %s, which the service does not read", k)
		}
	}
	dep := byKind["Deployment"]
	if r, _ := dig(dep, "spec", "replicas").(int); r < 2 {
		t.Errorf("replicas = %v, want >= 2 (replicas share the probing)", r)
	}
	c := dig(dep, "spec", "template", "spec", "containers", 0)
	if p := dig(c, "ports", 0, "containerPort"); p != 8089 {
		t.Errorf("containerPort %v, want DB_SERVICE_PORT's default 8089", p)
	}
	for probe, want := range map[string]string{"readinessProbe": "/ready", "livenessProbe": "/health"} {
		if p := dig(c, probe, "httpGet", "path"); p != want {
			t.Errorf("%s path %v, want %s", probe, p, want)
		}
	}
	for _, e := range dig(c, "env").([]any) {
		name := dig(e, "name").(string)
		if !vars[name] {
			t.Errorf("Deployment env %s is not read by the service", name)
		}
	}
	if dig(byKind["Service"], "spec", "ports", 0, "port") != 8089 {
		t.Error("Service port is not 8089")
	}
}

func TestComposeUsesKnownVariables(t *testing.T) {
	vars := envVars(t)
	d := docs(t, "docker-compose.yaml")[0]
	env := dig(d, "services", "database-service", "environment").(map[string]any)
	for k := range env {
		if !vars[k] {
			t.Errorf("compose sets %s, which the service does not read", k)
		}
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	df := string(b)
	for _, want := range []string{
		"FROM golang:1.26",          // the toolchain go.mod asks for
		"./cmd/database-service",    // builds the one binary
		"CGO_ENABLED=0",             // static, runs on distroless
		"EXPOSE 8089",               // DB_SERVICE_PORT default
		"USER nonroot",              // never root
		"COPY config/ /app/config/", // APP_ENV env files
		`ENTRYPOINT ["/app/database-service"]`,
	} {
		if !strings.Contains(df, want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
	if secretName.MatchString(regexp.MustCompile(`(?m)^ENV[^\n]*(\\\n[^\n]*)*`).FindString(df)) {
		t.Error("Dockerfile ENV sets a credential")
	}
	gomod, _ := os.ReadFile("../go.mod")
	if m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod)); m == nil || !strings.Contains(df, "golang:"+m[1]) {
		t.Errorf("Dockerfile builder does not match go.mod's go %v", m)
	}
	// The build context must not ship local secrets.
	ign, err := os.ReadFile("../.dockerignore")
	if err != nil || !strings.Contains(string(ign), ".env") {
		t.Error(".dockerignore must exclude .env")
	}
}
