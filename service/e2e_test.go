package service_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/service"
	"github.com/dbhealth/database-service/testsupport/cluster"
	"github.com/dbhealth/database-service/testsupport/fakees"
)

// The one target of the end-to-end tests: a fake Elasticsearch.
const (
	e2eKind = "elasticsearch"
	e2eName = "logs"
)

// e2eEnv is the environment of a replica probing es as the file target
// "logs" (every default kind is disabled by the harness), with a short
// schedule and debouncing by two.
func e2eEnv(c *cluster.Cluster, es *fakees.Server, extra map[string]string) map[string]string {
	env := map[string]string{
		"TARGETS_FILE":      c.WriteTargets(fmt.Sprintf("targets:\n  - {name: %s, type: %s, hosts: [%q]}\n", e2eName, e2eKind, es.URL())),
		"PROBE_INTERVAL":    "1s",
		"PROBE_TIMEOUT":     "400ms",
		"RETRY_INTERVAL":    "100ms",
		"FAILURE_THRESHOLD": "2",
		"SUCCESS_THRESHOLD": "2",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestEndToEndEmbedded runs one replica with the embedded bus and store,
// the real Elasticsearch driver against a fake node that turns red, then
// green, and checks what the API, the event stream and /metrics show.
func TestEndToEndEmbedded(t *testing.T) {
	c := cluster.New(t)
	es := fakees.New(t)
	r := c.Start("solo", e2eEnv(c, es, map[string]string{"BUS_URL": "", "STORE_URL": ""}), service.Options{})
	if !r.App.Config().Bus.Embedded() || !r.App.Config().Store.Embedded() {
		t.Fatal("replica not in standalone mode")
	}
	r.Run()
	runFlow(t, es, []string{r.URL}, false)
}

// TestEndToEndTwoReplicas runs the same flow with two replicas sharing the
// machine's RabbitMQ and Redis: either API answers alike, each incident
// gives one alert, and a downstream consumer sees each transition once.
func TestEndToEndTwoReplicas(t *testing.T) {
	c := cluster.New(t)
	es := fakees.New(t)
	env := e2eEnv(c, es, nil)
	r1 := c.Start("r1", env, service.Options{}) // declares the topology
	obs := c.Observe("db.health.#")
	r2 := c.Start("r2", env, service.Options{})
	r1.Run()
	r2.Run()

	runFlow(t, es, []string{r1.URL, r2.URL}, true)

	subject := e2eKind + "/" + e2eName
	var changed []events.StateChanged
	waitFor(t, "the observer to see three transitions", waitLimit, func() (bool, string) {
		_, all, _, _ := obs.Snapshot()
		changed = changed[:0]
		for _, s := range all {
			if s.Target.Subject() == subject {
				changed = append(changed, s)
			}
		}
		return len(changed) >= 3, fmt.Sprintf("%d transitions", len(changed))
	})
	checked, _, ids, bad := obs.Snapshot()
	if bad > 0 {
		t.Errorf("%d messages failed to decode or had wrong AMQP properties", bad)
	}
	want := [][2]string{{"UNKNOWN", "UP"}, {"UP", "DOWN"}, {"DOWN", "UP"}}
	if len(changed) != len(want) {
		t.Fatalf("observer saw %d transitions, want %d: %+v", len(changed), len(want), changed)
	}
	for i, s := range changed {
		if s.From != want[i][0] || s.To != want[i][1] || s.Seq != int64(i+1) || s.Initial != (i == 0) {
			t.Errorf("transition %d: %s->%s seq %d initial %v, want %s->%s seq %d", i, s.From, s.To, s.Seq, s.Initial,
				want[i][0], want[i][1], i+1)
		}
		if n := ids[s.ID()]; n != 1 {
			t.Errorf("transition %s delivered %d times", s.ID(), n)
		}
	}
	probers := map[string]bool{}
	for _, h := range checked {
		probers[h.Prober] = true
	}
	t.Logf("observer: %d checks by %d replica(s), %d transitions", len(checked), len(probers), len(changed))
}

// runFlow drives es through green -> red -> green and checks the API of
// every replica at urls.
// runFlow drives the flow; projected says the read models are built by
// bus consumers (shared mode) rather than by the embedded store itself.
func runFlow(t *testing.T, es *fakees.Server, urls []string, projected bool) {
	t.Helper()
	start := time.Now()

	// Green: every replica shows the target UP; no alert (the initial
	// transition opens none).
	waitState(t, urls, "UP")
	for _, u := range urls {
		var ab alertsBody
		mustFetchJSON(t, u+"/api/database/alerts", &ab)
		if len(ab.Alerts) != 0 {
			t.Fatalf("%s: alerts while UP: %+v", u, ab.Alerts)
		}
	}
	streams := make([]*sseStream, len(urls))
	for i, u := range urls {
		streams[i] = openSSE(t, u+"/api/database/events?type=state_changed")
	}
	before := scrape(t, urls)
	if v, _ := metricSum(before[0], "dbhealth_alerts_firing"); v != 0 {
		t.Errorf("dbhealth_alerts_firing %v while UP", v)
	}
	for _, name := range []string{"dbhealth_probes_skipped_total", "dbhealth_probe_results_dropped_total"} {
		if _, found := metricSum(before[0], name); !found {
			t.Errorf("%s not exposed", name)
		}
	}

	// Red: DOWN, one firing critical alert, seen by every replica.
	es.SetStatus("red")
	downAt := waitState(t, urls, "DOWN")
	for _, u := range urls {
		it, _, err := targetStatus(u)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(it.Reason, "red") {
			t.Errorf("%s: DOWN with reason %q, want the red cluster named", u, it.Reason)
		}
	}
	var alert alertItem
	for _, u := range urls {
		alert = waitOneAlert(t, u, "firing")
		if alert.Type != e2eKind || alert.Name != e2eName || alert.Severity != "critical" || alert.ResolvedAt != nil ||
			alert.ID == "" || !strings.Contains(alert.Reason, "red") {
			t.Errorf("%s: firing alert %+v", u, alert)
		}
		var firing alertsBody
		mustFetchJSON(t, u+"/api/database/alerts?state=firing", &firing)
		if len(firing.Alerts) != 1 || firing.Alerts[0].ID != alert.ID {
			t.Errorf("%s: state=firing gives %+v", u, firing.Alerts)
		}
	}
	waitGauge(t, urls, "dbhealth_alerts_firing", 1)
	during := scrape(t, urls)
	if d := sumAll(during, "dbhealth_checks_total", `type="elasticsearch"`, `state="DOWN"`) -
		sumAll(before, "dbhealth_checks_total", `type="elasticsearch"`, `state="DOWN"`); d < 2 {
		t.Errorf("dbhealth_checks_total{state=DOWN} grew by %v while red, want >= 2 (failure threshold)", d)
	}

	// Green again: UP, the same alert resolved, still one alert.
	es.SetStatus("green")
	upAt := waitState(t, urls, "UP")
	for _, u := range urls {
		if a := waitOneAlert(t, u, "resolved"); a.ID != alert.ID || a.ResolvedAt == nil || a.ResolvedAt.Before(a.StartedAt) || a.Severity != "critical" {
			t.Fatalf("%s: resolved alert %+v, firing was %+v", u, a, alert)
		}
		var resolved, firing alertsBody
		mustFetchJSON(t, u+"/api/database/alerts?state=resolved", &resolved)
		mustFetchJSON(t, u+"/api/database/alerts?state=firing", &firing)
		if len(resolved.Alerts) != 1 || len(firing.Alerts) != 0 {
			t.Errorf("%s: %d resolved, %d firing alerts; want 1, 0", u, len(resolved.Alerts), len(firing.Alerts))
		}
	}
	waitGauge(t, urls, "dbhealth_alerts_firing", 0)

	// The event streams opened before the change carry both transitions,
	// in order (the initial UNKNOWN->UP may or may not have reached them).
	for i, s := range streams {
		var got []events.StateChanged
		waitFor(t, "both transitions on the event stream of "+urls[i], waitLimit, func() (bool, string) {
			got = got[:0]
			for _, sc := range s.transitions(t) {
				if !sc.Initial {
					got = append(got, sc)
				}
			}
			return len(got) >= 2, fmt.Sprintf("%d transitions, stream error %v", len(got), s.error())
		})
		if len(got) != 2 || got[0].From != "UP" || got[0].To != "DOWN" || got[1].From != "DOWN" || got[1].To != "UP" ||
			got[1].Seq != got[0].Seq+1 {
			t.Errorf("%s: event stream transitions %+v, want UP->DOWN then DOWN->UP", urls[i], got)
		}
		for _, sc := range got {
			if sc.Target.Type != e2eKind || sc.Target.Name != e2eName {
				t.Errorf("%s: transition of %s", urls[i], sc.Target.Subject())
			}
		}
		for _, ev := range s.snapshot() {
			if ev.Type != events.TypeStateChanged {
				t.Errorf("%s: ?type=state_changed delivered a %s", urls[i], ev.Type)
			}
		}
	}

	// A stream asking for checks gets them while it is open: the replica
	// binds HealthChecked to its own queue (or, standalone, publishes it)
	// only then.
	checks := openSSE(t, urls[0]+"/api/database/events?type=checked")
	waitFor(t, "checks on a ?type=checked stream", waitLimit, func() (bool, string) {
		n := 0
		for _, ev := range checks.snapshot() {
			if ev.Type != events.TypeHealthChecked {
				t.Errorf("?type=checked delivered a %s", ev.Type)
			}
			n++
		}
		return n >= 2, fmt.Sprintf("%d checks, stream error %v", n, checks.error())
	})

	// /metrics counted the incident.
	after := scrape(t, urls)
	type want struct {
		name   string
		labels []string
		min    float64
	}
	wants := []want{
		{"dbhealth_checks_total", []string{`type="elasticsearch"`, `state="UP"`}, 2},
		{"dbhealth_bus_events_published_total", []string{`type="` + events.TypeStateChanged + `"`}, 2},
		{"dbhealth_bus_events_consumed_total", []string{`group="live"`, `type="` + events.TypeStateChanged + `"`}, 2},
		{"dbhealth_bus_events_consumed_total", []string{`group="live"`, `type="` + events.TypeHealthChecked + `"`}, 2},
	}
	if projected {
		wants = append(wants,
			want{"dbhealth_bus_events_published_total", []string{`type="` + events.TypeHealthChecked + `"`}, 4},
			want{"dbhealth_bus_events_consumed_total", []string{`group="alerts"`, `type="` + events.TypeStateChanged + `"`}, 2},
			want{"dbhealth_bus_events_consumed_total", []string{`group="status"`, `type="` + events.TypeStateChanged + `"`}, 2},
			want{"dbhealth_bus_events_consumed_total", []string{`group="checks"`, `type="` + events.TypeHealthChecked + `"`}, 4})
	}
	for _, m := range wants {
		if d := sumAll(after, m.name, m.labels...) - sumAll(before, m.name, m.labels...); d < m.min {
			t.Errorf("%s%v grew by %v over the incident, want >= %v", m.name, m.labels, d, m.min)
		}
	}
	for i, text := range after {
		if _, ok := metricSum(text, "dbhealth_probe_duration_seconds_count", `type="elasticsearch"`); !ok && len(urls) == 1 {
			t.Errorf("%s: no probe duration histogram", urls[i])
		}
		if v, _ := metricSum(text, "dbhealth_http_requests_total"); v == 0 {
			t.Errorf("%s: no HTTP request counted", urls[i])
		}
		if _, ok := metricSum(text, "go_goroutines"); !ok {
			t.Errorf("%s: no Go runtime metrics", urls[i])
		}
	}

	// Every replica answers the status alike: same state, same since.
	var since *time.Time
	for _, u := range urls {
		it, overall, err := targetStatus(u)
		if err != nil {
			t.Fatal(err)
		}
		if overall != "UP" || it.State != "UP" || it.Since == nil || it.CheckedAt == nil {
			t.Fatalf("%s: overall %s, target %+v", u, overall, it)
		}
		if since == nil {
			since = it.Since
		} else if !it.Since.Equal(*since) {
			t.Errorf("%s: since %v, another replica says %v", u, it.Since, since)
		}
		if it.Since.Before(downAt.Add(-time.Minute)) || it.Since.After(upAt) {
			t.Errorf("%s: UP since %v, outside the incident (%v..%v)", u, it.Since, downAt, upAt)
		}
	}

	checkHistory(t, urls, start)
	checkOtherRoutes(t, urls)
}

// targetStatus reads the overall state and the status of the test target
// from GET /api/database/status.
func targetStatus(base string) (statusItem, string, error) {
	var sb statusBody
	if err := fetchJSON(base+"/api/database/status", &sb); err != nil {
		return statusItem{}, "", err
	}
	for _, d := range sb.Databases {
		if d.Type == e2eKind && d.Name == e2eName {
			return d, sb.Overall, nil
		}
	}
	return statusItem{}, sb.Overall, fmt.Errorf("%s: target %s/%s missing from %+v", base, e2eKind, e2eName, sb)
}

// waitState waits until every replica shows the target (and the overall
// state) in state, and returns when that was.
func waitState(t *testing.T, urls []string, state string) time.Time {
	t.Helper()
	for _, u := range urls {
		waitFor(t, "the target "+state+" at "+u, waitLimit, func() (bool, string) {
			it, overall, err := targetStatus(u)
			if err != nil {
				return false, err.Error()
			}
			return it.State == state && overall == state, fmt.Sprintf("overall %s, target %+v", overall, it)
		})
	}
	return time.Now()
}

// scrape reads /metrics of every replica.
func scrape(t *testing.T, urls []string) []string {
	t.Helper()
	out := make([]string, len(urls))
	for i, u := range urls {
		res, err := call(http.MethodGet, u+"/metrics", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("GET %s/metrics: %d %s", u, res.Status, res.Header.Get("Content-Type"))
		}
		out[i] = string(res.Body)
	}
	return out
}

// sumAll sums a metric over the scrapes of every replica.
func sumAll(texts []string, name string, labels ...string) float64 {
	var sum float64
	for _, text := range texts {
		v, _ := metricSum(text, name, labels...)
		sum += v
	}
	return sum
}

// waitGauge waits until the gauge reads want on every replica.
func waitGauge(t *testing.T, urls []string, name string, want float64) {
	t.Helper()
	for _, u := range urls {
		waitFor(t, fmt.Sprintf("%s = %v at %s", name, want, u), waitLimit, func() (bool, string) {
			res, err := call(http.MethodGet, u+"/metrics", nil, nil)
			if err != nil {
				return false, err.Error()
			}
			v, ok := metricSum(string(res.Body), name)
			return ok && v == want, fmt.Sprint(v)
		})
	}
}

// checkHistory checks the history of the incident: newest first, DOWN and
// UP checks, paging, and every replica answering the same page.
func checkHistory(t *testing.T, urls []string, start time.Time) {
	t.Helper()
	// The page is closed by until, so it stops changing once the history
	// projection has caught up with the checks before it.
	until := time.Now().UTC().Format(time.RFC3339Nano)
	q := url.Values{"name": {e2eName}, "limit": {"1000"}, "until": {until}}
	path := "/api/database/history/" + e2eKind + "?" + q.Encode()
	var first historyBody
	waitFor(t, "a stable history page", waitLimit, func() (bool, string) {
		prev := first
		first = historyBody{}
		if err := fetchJSON(urls[0]+path, &first); err != nil {
			return false, err.Error()
		}
		return len(first.Items) > 0 && slices.Equal(prev.Items, first.Items), fmt.Sprintf("%d items", len(first.Items))
	})
	if len(first.Items) < 4 {
		t.Fatalf("history has %d checks, want the incident's: %+v", len(first.Items), first.Items)
	}
	states := map[string]int{}
	for i, it := range first.Items {
		states[it.State]++
		if it.Type != e2eKind || it.Name != e2eName || it.Prober == "" || it.CheckedAt.Before(start.Add(-time.Minute)) {
			t.Errorf("history item %d: %+v", i, it)
		}
		if i > 0 && it.CheckedAt.After(first.Items[i-1].CheckedAt) {
			t.Errorf("history not newest first at %d: %v after %v", i, it.CheckedAt, first.Items[i-1].CheckedAt)
		}
	}
	if states["UP"] < 2 || states["DOWN"] < 2 {
		t.Errorf("history states %v, want UP and DOWN checks", states)
	}
	// Every replica reads the same history (the page is closed by until;
	// a replica whose projection lags catches up).
	for _, u := range urls[1:] {
		waitFor(t, "the same history at "+u, waitLimit, func() (bool, string) {
			var hb historyBody
			if err := fetchJSON(u+path, &hb); err != nil {
				return false, err.Error()
			}
			if !slices.Equal(hb.Items, first.Items) {
				return false, fmt.Sprintf("%d items vs %d", len(hb.Items), len(first.Items))
			}
			return true, ""
		})
	}
	// Paging: two at a time, the next page continues where the first ended.
	q.Set("limit", "2")
	var p1, p2 historyBody
	mustFetchJSON(t, urls[len(urls)-1]+"/api/database/history/"+e2eKind+"?"+q.Encode(), &p1)
	if len(p1.Items) != 2 || p1.Next == "" || !slices.Equal(p1.Items, first.Items[:2]) {
		t.Fatalf("first page of 2: %+v (next %q), want %+v", p1.Items, p1.Next, first.Items[:2])
	}
	q.Set("cursor", p1.Next)
	mustFetchJSON(t, urls[len(urls)-1]+"/api/database/history/"+e2eKind+"?"+q.Encode(), &p2)
	if len(p2.Items) != 2 || !slices.Equal(p2.Items, first.Items[2:4]) {
		t.Errorf("second page of 2: %+v, want %+v", p2.Items, first.Items[2:4])
	}
}

// checkOtherRoutes checks the remaining routes of the flow on every
// replica: status of one kind, metrics JSON, the manual test, /health,
// and the error shape of an unknown type.
func checkOtherRoutes(t *testing.T, urls []string) {
	t.Helper()
	for _, u := range urls {
		var one, none statusBody
		mustFetchJSON(t, u+"/api/database/status/"+e2eKind, &one)
		if len(one.Databases) != 1 || one.Databases[0].Name != e2eName || one.Databases[0].State != "UP" || one.Overall != "UP" {
			t.Errorf("%s: /status/%s: %+v", u, e2eKind, one)
		}
		mustFetchJSON(t, u+"/api/database/status/postgres", &none)
		if len(none.Databases) != 0 || none.Overall != "UNKNOWN" {
			t.Errorf("%s: /status/postgres with no postgres target: %+v", u, none)
		}

		var mb struct {
			Targets []struct {
				Type      string              `json:"type"`
				Name      string              `json:"name"`
				Uptime    map[string]*float64 `json:"uptime"`
				LatencyMS struct {
					P50 float64 `json:"p50"`
					P99 float64 `json:"p99"`
				} `json:"latency_ms"`
				Checks int64 `json:"checks"`
			} `json:"targets"`
		}
		mustFetchJSON(t, u+"/api/database/metrics", &mb)
		if len(mb.Targets) != 1 || mb.Targets[0].Type != e2eKind || mb.Targets[0].Name != e2eName {
			t.Fatalf("%s: /api/database/metrics: %+v", u, mb)
		}
		m := mb.Targets[0]
		if up := m.Uptime["1h"]; m.Checks < 4 || up == nil || *up <= 0 || *up >= 1 || m.LatencyMS.P99 <= 0 {
			t.Errorf("%s: metrics of the target after an incident: %+v (uptime 1h %v)", u, m, up)
		}

		res, err := call(http.MethodPost, u+"/api/database/connections/test/"+e2eKind, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		var tb struct {
			Type    string `json:"type"`
			Results []struct {
				Type, Name, State string
				Details           map[string]any `json:"details"`
				Error             string         `json:"error"`
				CheckedAt         time.Time      `json:"checked_at"`
			} `json:"results"`
		}
		if err := jsonOK(res, &tb); err != nil {
			t.Fatalf("%s: POST test: %v", u, err)
		}
		if tb.Type != e2eKind || len(tb.Results) != 1 {
			t.Fatalf("%s: POST test: %+v", u, tb)
		}
		if r := tb.Results[0]; r.Type != e2eKind || r.Name != e2eName || r.State != "UP" || r.Error != "" ||
			r.CheckedAt.IsZero() || len(r.Details) == 0 {
			t.Errorf("%s: POST test result %+v", u, r)
		}
		res, err = call(http.MethodPost, u+"/api/database/connections/test/"+e2eKind+"?name=nope", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusNotFound {
			t.Errorf("%s: POST test of an unknown name: %d %s", u, res.Status, res.Body)
		}

		var hb struct {
			Status string `json:"status"`
			Checks map[string]struct {
				Status string `json:"status"`
			} `json:"checks"`
		}
		mustFetchJSON(t, u+"/health", &hb)
		if hb.Status != "UP" || hb.Checks["bus"].Status != "UP" || hb.Checks["store"].Status != "UP" {
			t.Errorf("%s: /health %+v", u, hb)
		}

		for _, p := range []string{"/api/database/status/oracle", "/api/database/history/oracle"} {
			res, err := call(http.MethodGet, u+p, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var eb errorBody
			_ = json.Unmarshal(res.Body, &eb)
			if res.Status != http.StatusNotFound || eb.Error.Code == "" ||
				!strings.Contains(eb.Error.Message, "oracle") || !strings.Contains(eb.Error.Message, "elasticsearch") ||
				!strings.Contains(eb.Error.Message, "postgres") {
				t.Errorf("%s%s: %d %s, want 404 with the valid types listed", u, p, res.Status, res.Body)
			}
		}
	}
}
