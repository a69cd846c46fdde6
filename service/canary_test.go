package service_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/fakees"
	"github.com/dbhealth/database-service/testsupport/fakenacos"
	"github.com/dbhealth/database-service/testsupport/hooktest"
	"github.com/dbhealth/database-service/testsupport/servers"
)

// canary lists the forms in which a configured secret must never appear.
type canary struct {
	// marker is part of every secret and of nothing else: any encoding
	// that keeps letters and digits (URL escaping, JSON, quoting) shows it.
	marker string
	// forms are the secrets themselves and their base64 forms (alone and
	// as user:password, as in a Basic Authorization header).
	forms []string
}

func newCanary(marker string) *canary { return &canary{marker: marker, forms: []string{marker}} }

// secret returns a password built around the marker and records its forms.
func (c *canary) secret(prefix, suffix, user string) string {
	s := prefix + c.marker + suffix
	for _, v := range []string{s, user + ":" + s} {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			c.forms = append(c.forms, enc.EncodeToString([]byte(v)))
		}
	}
	c.forms = append(c.forms, s, url.QueryEscape(s), url.PathEscape(s))
	return s
}

// leak reports the first secret form in text, or "".
func (c *canary) leak(text string) string {
	for _, f := range c.forms {
		if strings.Contains(text, f) {
			return f
		}
	}
	return ""
}

// check fails the test when what (a response, a log) holds a secret.
func (c *canary) check(t *testing.T, what, text string) {
	t.Helper()
	if f := c.leak(text); f != "" {
		i := strings.Index(text, f)
		lo, hi := max(0, i-200), min(len(text), i+len(f)+200)
		t.Errorf("%s holds a secret (%q): ...%s...", what, f, text[lo:hi])
	}
}

// TestNoSecretInAnyResponse configures a distinctive password for every
// default kind, a file target and the API token, runs the whole program
// (run, as main does) in standalone mode, walks every route of the OpenAPI
// document (every type, the documentation assets, error answers, the event
// stream) and checks that no secret appears in any response body or
// header, nor in anything the program logged or wrote to its data dir.
func TestNoSecretInAnyResponse(t *testing.T) {
	c := cluster.New(t)
	cn := newCanary("qzCnry" + c.ID + "x")
	var (
		pgPass    = cn.secret("pg!", "#1", "postgres")
		esPass    = cn.secret("es@", "/2", "elastic")
		milvusPwd = cn.secret("mv:", "?3", "root")
		redisPass = cn.secret("rd-", "-4", "default")
		rabbitPwd = cn.secret("rq@", "%5", "guest")
		nacosPass = cn.secret("nc&", "=6", "nacos")
		token     = cn.secret("tk-", "-7", "")
		filePass  = cn.secret("fs!", "^8", "elastic")
		orderPass = cn.secret("po'", "+9", "postgres")
		hookAuth  = cn.secret("wh-", "-10", "")
		smtpPass  = cn.secret("sm@", "!11", "db")
		slackPath = cn.secret("sl", "12", "")
	)
	// A signing secret is base64 of random bytes: the canary knows it as is.
	signing := "whsec_" + base64.StdEncoding.EncodeToString([]byte("canary-signing-key-"+c.ID+"-0123456789"))
	cn.forms = append(cn.forms, signing, strings.TrimPrefix(signing, "whsec_"))

	// The check is not blind: it sees a secret however it is encoded.
	for _, s := range []string{strconv.Quote(rabbitPwd), url.QueryEscape(nacosPass), url.PathEscape(pgPass),
		base64.StdEncoding.EncodeToString([]byte("elastic:" + esPass)), "x" + base64.RawURLEncoding.EncodeToString([]byte(token))} {
		if cn.leak("..."+s+"...") == "" {
			t.Fatalf("the canary misses %q", s)
		}
	}

	// The targets: some reachable only with the right password (so the
	// secrets are really used), others failing in various ways.
	esDefault := fakees.New(t)
	esDefault.RequireBasicAuth("elastic", "another-password") // auth failure
	esFile := fakees.New(t)
	esFile.RequireBasicAuth("elastic", filePass)
	redisSrv := servers.StartRedis(t, redisPass)
	milvusSrv := servers.StartSilent(t) // timeout
	nacos := fakenacos.Start(t)
	nacos.RequireAuth("nacos", nacosPass)
	mgmt := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", `Basic realm="RabbitMQ Management"`)
		http.Error(w, `{"error":"not_authorized","reason":"Login failed"}`, http.StatusUnauthorized)
	}))
	t.Cleanup(mgmt.Close)
	closedPort := servers.FreePort(t)
	port := servers.FreePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	// The Nacos SDK's process-wide logger keeps writing into the last data
	// dir, so it cannot be a t.TempDir.
	dataDir := filepath.Join(os.TempDir(), "database-service-test", c.ID)
	t.Cleanup(func() { _ = os.RemoveAll(dataDir) })

	// Receivers with secrets, all failing (a 503, refused connections), so
	// their errors are logged and kept in the notification log.
	hook := hooktest.New(t, signing)
	hook.Answer(503, 503, 503, 503, 503, 503, 503, 503)
	targets := fmt.Sprintf(`targets:
  - {name: logs, type: elasticsearch, hosts: [%q], username: elastic, password: %q}
  - {name: orders, type: postgres, host: 127.0.0.1, port: %d, username: app, password: %q}
receivers:
  - {name: hook, kind: webhook, webhook: {url: %q, secrets: [%q], headers: {Authorization: %q}}}
`, esFile.URL(), filePass, closedPort, orderPass, hook.URL, signing, "Bearer "+hookAuth)
	pg := servers.MachinePostgres()
	env := c.Env("canary", "unused:1", "unused:1", map[string]string{
		"BUS_URL": "", "STORE_URL": "", "DEBUG": "true", "DATA_DIR": dataDir,
		"DB_SERVICE_PORT": strconv.Itoa(port), "SERVICE_IP": "127.0.0.1", "API_TOKEN": token,
		"TARGETS_FILE":   c.WriteTargets(targets),
		"PROBE_INTERVAL": "1s", "PROBE_TIMEOUT": "800ms", "RETRY_INTERVAL": "100ms",
		"FAILURE_THRESHOLD": "1", "SUCCESS_THRESHOLD": "1",
		"ALERT_RETRY_INTERVAL": "100ms", "ALERT_SLACK_WEBHOOK_URL": fmt.Sprintf("http://127.0.0.1:%d/services/%s", closedPort, slackPath),
		"ALERT_SMTP_HOST": "127.0.0.1", "ALERT_SMTP_PORT": strconv.Itoa(closedPort), "ALERT_SMTP_USERNAME": "db",
		"ALERT_SMTP_PASSWORD": smtpPass, "ALERT_EMAIL_FROM": "db@example.com", "ALERT_EMAIL_TO": "ops@example.com",

		"POSTGRES_ENABLED": "true", "POSTGRES_HOST": pg.Host(), "POSTGRES_PORT": strconv.Itoa(pg.Port()),
		"POSTGRES_USER": pg.User(), "POSTGRES_DB": pg.Database(), "POSTGRES_PASSWORD": pgPass,

		"ELASTICSEARCH_ENABLED": "true", "ELASTICSEARCH_HOSTS": esDefault.URL(),
		"ELASTICSEARCH_USERNAME": "elastic", "ELASTICSEARCH_PASSWORD": esPass,

		"MILVUS_ENABLED": "true", "MILVUS_HOST": "127.0.0.1", "MILVUS_PORT": strconv.Itoa(milvusSrv.Port),
		"MILVUS_USERNAME": "root", "MILVUS_PASSWORD": milvusPwd,

		"REDIS_ENABLED": "true", "REDIS_HOST": "127.0.0.1", "REDIS_PORT": strconv.Itoa(redisSrv.Port),
		"REDIS_PASSWORD": redisPass,

		"RABBITMQ_ENABLED": "true", "RABBITMQ_HOST": rabbitMQ.Host(), "RABBITMQ_PORT": strconv.Itoa(rabbitMQ.Port()),
		"RABBITMQ_USERNAME": rabbitMQ.User(), "RABBITMQ_PASSWORD": rabbitPwd, "RABBITMQ_MANAGEMENT_URL": mgmt.URL,

		"NACOS_ENABLED": "true", "NACOS_SERVERS": nacos.Addr(), "NACOS_USERNAME": "nacos",
		"NACOS_PASSWORD": nacosPass, "REGISTRY_ENABLED": "true",
	})

	// The whole program, as an operator runs it, everything it writes
	// captured in its log.
	p := cluster.StartProc(t, cluster.BuildBinary(t), "canary", c.Dir, cluster.Environ(t, env))
	out := func() string { b, _ := os.ReadFile(p.Log); return string(b) }
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		_ = p.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.Done():
			if code := p.Cmd.ProcessState.ExitCode(); code != 0 {
				t.Errorf("the service exited with %d", code)
			}
		case <-time.After(30 * time.Second):
			t.Error("the service did not stop within 30s")
		}
	}
	t.Cleanup(stop)
	waitFor(t, "the API to answer", waitLimit, func() (bool, string) {
		if p.Exited() {
			t.Fatalf("the service exited at start-up (%s):\n%s", p.Cmd.ProcessState, out())
		}
		res, err := call(http.MethodGet, base+"/health", nil, nil)
		if err != nil {
			return false, err.Error()
		}
		return res.Status == http.StatusOK, fmt.Sprintf("%d %s", res.Status, res.Body)
	})
	sse := openSSE(t, base+"/api/database/events")

	// Every target checked, with the state its set-up implies (the UP ones
	// prove the passwords reached the servers).
	want := map[string]string{
		"postgres/postgres": "UP", "postgres/orders": "DOWN",
		"elasticsearch/elasticsearch": "DOWN", "elasticsearch/logs": "UP",
		"milvus/milvus": "DOWN", "redis/redis": "UP", "rabbitmq/rabbitmq": "DOWN", "nacos/nacos": "UP",
	}
	var sb statusBody
	waitFor(t, "every target checked", waitLimit, func() (bool, string) {
		sb = statusBody{}
		if err := fetchJSON(base+"/api/database/status", &sb); err != nil {
			return false, err.Error()
		}
		got := map[string]string{}
		for _, d := range sb.Databases {
			got[d.Type+"/"+d.Name] = d.State
		}
		for id, st := range want {
			if got[id] != st {
				return false, fmt.Sprint(got)
			}
		}
		return len(got) == len(want), fmt.Sprint(got)
	})
	for _, d := range sb.Databases {
		if d.State == "DOWN" && d.Error == "" && d.Reason == "" {
			t.Errorf("%s/%s DOWN without an error or reason to look into", d.Type, d.Name)
		}
	}
	waitFor(t, "firing alerts, a registration and events of both kinds", waitLimit, func() (bool, string) {
		var ab alertsBody
		if err := fetchJSON(base+"/api/database/alerts?state=firing", &ab); err != nil {
			return false, err.Error()
		}
		var reg struct {
			Registered bool `json:"registered"`
		}
		if err := fetchJSON(base+"/api/database/registry/status", &reg); err != nil {
			return false, err.Error()
		}
		kinds := map[string]int{}
		for _, ev := range sse.snapshot() {
			kinds[ev.Type]++
		}
		var failed struct {
			Notifications []any `json:"notifications"`
		}
		if err := fetchJSON(base+"/api/database/alerts/notifications?state=failed", &failed); err != nil {
			return false, err.Error()
		}
		return len(ab.Alerts) >= 4 && reg.Registered && kinds[events.TypeHealthChecked] > 0 && kinds[events.TypeStateChanged] > 0 &&
				len(hook.Deliveries()) > 0 && len(failed.Notifications) > 0,
			fmt.Sprintf("%d firing alerts, registered %v, events %v, %d webhook requests, %d dead letters",
				len(ab.Alerts), reg.Registered, kinds, len(hook.Deliveries()), len(failed.Notifications))
	})

	// Walk every route of the OpenAPI document.
	res, err := call(http.MethodGet, base+"/openapi.json", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(res.Body, &spec); err != nil || len(spec.Paths) < 10 {
		t.Fatalf("openapi.json: %v (%d paths)", err, len(spec.Paths))
	}
	auth := http.Header{"Authorization": {"Bearer " + token}}
	kinds := make([]string, 0, len(probes.Kinds)+1)
	for _, k := range probes.Kinds {
		kinds = append(kinds, string(k))
	}
	kinds = append(kinds, "oracle") // the 404 answer
	names := map[string][]string{}
	for id := range want {
		kind, name, _ := strings.Cut(id, "/")
		names[kind] = append(names[kind], name)
	}
	type request struct {
		method, path string
		header       http.Header
		body         string
	}
	var reqs []request
	add := func(method, path string, header http.Header, body string) {
		reqs = append(reqs, request{method, path, header, body})
	}
	walked := 0
	for path, ops := range spec.Paths {
		for method := range ops {
			method = strings.ToUpper(method)
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, method) {
				continue
			}
			walked++
			switch {
			case path == "/api/database/events":
				// The stream, open since start-up, is checked below.
			case strings.Contains(path, "{database_type}"):
				for _, k := range kinds {
					p := strings.ReplaceAll(path, "{database_type}", k)
					add(method, p, auth, "")
					add(method, p, nil, "")
					for _, n := range names[k] {
						add(method, p+"?name="+url.QueryEscape(n), auth, "")
					}
					add(method, p+"?limit=1", auth, "")
					add(method, p+"?limit=bogus", auth, "")
				}
			case path == "/api/database/registry/update":
				add(method, path, http.Header{"Authorization": auth["Authorization"], "Content-Type": {"application/json"}},
					`{"metadata":{"zone":"canary"}}`)
				add(method, path, http.Header{"Content-Type": {"application/json"}}, `{}`)
				add(method, path, http.Header{"Authorization": auth["Authorization"], "Content-Type": {"text/plain"}}, `x`)
			default:
				add(method, path, auth, "")
				add(method, path, nil, "")
				add(method, path+"?limit=1000&state=all&format=json", auth, "")
			}
		}
	}
	if walked < len(spec.Paths) {
		t.Fatalf("walked %d operations of %d paths", walked, len(spec.Paths))
	}
	for _, q := range []string{"?state=firing", "?state=resolved", "?state=bogus"} {
		add("GET", "/api/database/alerts"+q, nil, "")
	}
	add("GET", "/api/database/metrics?format=prometheus", nil, "")
	add("GET", "/api/database/metrics", http.Header{"Accept": {"text/plain"}}, "")
	add("GET", "/api/database/config", http.Header{"Authorization": {"Bearer wrong"}}, "")
	add("GET", "/api/database/no-such-route", nil, "")
	add("DELETE", "/api/database/status", nil, "")
	add("POST", "/api/database/connections/test/redis", http.Header{"Authorization": auth["Authorization"],
		"Content-Type": {"application/json"}}, `{"password":"`+redisPass+`"}`)

	scanned, statuses := 0, map[int]int{}
	var configBody, docsPages string
	for _, rq := range reqs {
		res, err := call(rq.method, base+rq.path, rq.header, strings.NewReader(rq.body))
		if err != nil {
			t.Fatalf("%s %s: %v", rq.method, rq.path, err)
		}
		statuses[res.Status]++
		what := fmt.Sprintf("%s %s (%d)", rq.method, rq.path, res.Status)
		if res.Status >= 500 {
			t.Errorf("%s: %s", what, res.Body)
		}
		cn.check(t, what+" body", string(res.Body))
		cn.check(t, what+" headers", fmt.Sprint(res.Header))
		scanned += len(res.Body)
		if rq.path == "/api/database/config" && res.Status == http.StatusOK {
			configBody = string(res.Body)
		}
		if rq.path == "/docs" || rq.path == "/redoc" {
			docsPages += string(res.Body)
		}
	}
	if !strings.Contains(configBody, "******") || !strings.Contains(configBody, c.Service) {
		t.Errorf("GET /api/database/config with the token: %.500s", configBody)
	}

	// The documentation assets the pages load.
	assets := regexp.MustCompile(`(?:src|href)="(/(?:docs|redoc)/_assets/[^"]+)"`).FindAllStringSubmatch(docsPages, -1)
	if len(assets) < 2 {
		t.Errorf("documentation pages reference %d embedded assets: %.1000s", len(assets), docsPages)
	}
	for _, m := range assets {
		res, err := call(http.MethodGet, base+m[1], nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusOK {
			t.Errorf("GET %s: %d", m[1], res.Status)
		}
		cn.check(t, "GET "+m[1], string(res.Body)+fmt.Sprint(res.Header))
		scanned += len(res.Body)
	}

	// The event stream, open since start-up.
	sseText := func() string {
		sse.mu.Lock()
		defer sse.mu.Unlock()
		return sse.raw.String() + fmt.Sprint(sse.header)
	}()
	cn.check(t, "GET /api/database/events", sseText)
	if !strings.Contains(sseText, `"error_kind":"auth"`) {
		t.Errorf("the event stream carried no authentication failure: %.2000s", sseText)
	}
	t.Logf("%d requests, %d bytes of responses, %d bytes of events; statuses %v", len(reqs), scanned, len(sseText), statuses)

	// Logs and files, after a clean stop (deregistration, shutdown).
	stop()
	logs := out()
	if !strings.Contains(logs, "database-service started") || !strings.Contains(logs, "http request") {
		t.Errorf("the captured output misses the start-up or access log: %.2000s", logs)
	}
	cn.check(t, "the service's output", logs)
	files := 0
	_ = filepath.WalkDir(dataDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err == nil {
			files++
			cn.check(t, "file "+path, string(b))
		}
		return nil
	})
	t.Logf("%d bytes of output, %d files in the data dir checked", len(logs), files)
}
