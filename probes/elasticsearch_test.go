package probes_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/fakees"
	"github.com/dbhealth/database-service/testsupport/servers"
)

func TestElasticsearchFactsHealth(t *testing.T) {
	probes.RunHealthCases(t, []probes.HealthCase{
		{"green", probes.ElasticsearchFacts{Status: "green"}, probes.Limits{}, probes.StateUp, ""},
		{"green with relocating shards", probes.ElasticsearchFacts{Status: "green", RelocatingShards: 3}, probes.Limits{}, probes.StateUp, ""},
		{"yellow", probes.ElasticsearchFacts{Status: "yellow", UnassignedShards: 5}, probes.Limits{}, probes.StateDegraded, "yellow: 5 unassigned"},
		{"red", probes.ElasticsearchFacts{Status: "red", UnassignedShards: 6, InitializingShards: 1}, probes.Limits{}, probes.StateDown, "red: 6 unassigned shards, 1 initializing"},
		{"unknown status", probes.ElasticsearchFacts{Status: "purple"}, probes.Limits{}, probes.StateDown, `"purple"`},
		{"empty status", probes.ElasticsearchFacts{}, probes.Limits{}, probes.StateDown, "unknown cluster status"},
	})
}

// esTarget is an Elasticsearch target on the fake with a short timeout.
func esTarget(url string) probes.Target {
	return probes.Target{
		Kind:      probes.Elasticsearch,
		Name:      "es-test",
		Host:      "127.0.0.1",
		Addresses: []string{url},
		Timeout:   2 * time.Second,
	}
}

func TestElasticsearchClusterStatus(t *testing.T) {
	tests := []struct {
		status string
		want   probes.State
	}{
		{"green", probes.StateUp},
		{"yellow", probes.StateDegraded},
		{"red", probes.StateDown},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			fake := fakees.New(t)
			fake.SetStatus(tt.status)
			target := esTarget(fake.URL())
			r := probes.RequireOpenProbe(t, probes.OpenElasticsearch, target, tt.want, probes.ErrKindNone)
			want := map[string]any{
				"status":               tt.status,
				"version":              fakees.DefaultVersion,
				"cluster_name":         fakees.DefaultClusterName,
				"number_of_nodes":      "3",
				"number_of_data_nodes": "2",
			}
			for k, v := range want {
				if fmt.Sprint(r.DetailsMap()[k]) != v {
					t.Errorf("details[%s] = %v, want %v", k, r.DetailsMap()[k], v)
				}
			}
			if tt.status != "green" && (fmt.Sprint(r.DetailsMap()["unassigned_shards"]) == "0" || r.Reason == "") {
				t.Errorf("%s cluster: unassigned_shards %v, reason %q", tt.status, r.DetailsMap()["unassigned_shards"], r.Reason)
			}
		})
	}
}

func TestElasticsearchNoProductHeader(t *testing.T) {
	t.Run("from the first answer", func(t *testing.T) {
		fake := fakees.New(t)
		fake.SetProductHeader(false)
		target := esTarget(fake.URL())
		probes.RequireOpenProbe(t, probes.OpenElasticsearch, target, probes.StateDown, probes.ErrKindProtocol)
	})
	t.Run("after a successful probe", func(t *testing.T) {
		// The SDK caches its first successful product check; the probe
		// still checks every answer.
		fake := fakees.New(t)
		target := esTarget(fake.URL())
		c := probes.OpenForTest(t, probes.OpenElasticsearch, target)
		if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateUp {
			t.Fatalf("first probe: %s %s", r.State, r.Error)
		}
		fake.SetProductHeader(false)
		probes.RequireProbe(t, target, c, probes.StateDown, probes.ErrKindProtocol)
	})
}

func TestElasticsearchSlowServerTimesOut(t *testing.T) {
	fake := fakees.New(t)
	fake.SetDelay(5 * time.Second)
	target := esTarget(fake.URL())
	target.Timeout = 200 * time.Millisecond
	requireTimesOutSoon(t, probes.OpenElasticsearch, target)
}

func TestElasticsearchAuth(t *testing.T) {
	const user, good, bad = "elastic", "Right-Pa55word", "Wr0ng-Pa55word"
	fake := fakees.New(t)
	fake.RequireBasicAuth(user, good)

	runLoginCases(t, probes.OpenElasticsearch, esTarget(fake.URL()), user, good, bad, nil)
	t.Run("rejected with the password in the URL", func(t *testing.T) {
		target := esTarget(strings.Replace(fake.URL(), "http://", "http://"+user+":"+bad+"@", 1))
		target.Password = secret.String(bad)
		r := probes.RequireOpenProbe(t, probes.OpenElasticsearch, target, probes.StateDown, probes.ErrKindAuth)
		// Target.Addresses holds the URL as configured (the config layer's
		// business); what the probe produced must not repeat it.
		r.Target = probes.Target{}
		assertNoSecret(t, r, bad)
	})
}

func TestElasticsearchClosedPortRefused(t *testing.T) {
	target := esTarget("http://127.0.0.1:" + strconv.Itoa(servers.FreePort(t)))
	probes.RequireOpenProbe(t, probes.OpenElasticsearch, target, probes.StateDown, probes.ErrKindRefused)
}

func TestElasticsearchHTTPErrorsNotRetried(t *testing.T) {
	tests := []struct {
		status int
		want   probes.ErrorKind
	}{
		{http.StatusServiceUnavailable, probes.ErrKindUnavailable},
		{http.StatusBadGateway, probes.ErrKindUnavailable},
		{http.StatusForbidden, probes.ErrKindAuth},
		{http.StatusNotFound, probes.ErrKindProtocol},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			fake := fakees.New(t)
			fake.FailWith(tt.status)
			target := esTarget(fake.URL())
			r := probes.RequireOpenProbe(t, probes.OpenElasticsearch, target, probes.StateDown, tt.want)
			if !strings.Contains(r.Error, "fake_exception") {
				t.Errorf("error %q lacks Elasticsearch's error type", r.Error)
			}
			if n := fake.Requests(); n != 1 {
				t.Fatalf("server saw %d requests, want 1 (no retries inside a probe)", n)
			}
		})
	}
}

func TestElasticsearchVersionRefreshedAfterFailure(t *testing.T) {
	fake := fakees.New(t)
	target := esTarget(fake.URL())
	c := probes.OpenForTest(t, probes.OpenElasticsearch, target)

	if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateUp {
		t.Fatalf("probe 1: %s %s", r.State, r.Error)
	}
	if n := fake.Requests(); n != 2 {
		t.Fatalf("first probe made %d requests, want 2 (GET /, health)", n)
	}
	fake.SetVersion("8.16.1")
	if r := probes.RunProbe(context.Background(), target, c); r.DetailsMap()["version"] != fakees.DefaultVersion {
		t.Fatalf("probe 2: version %v, want the cached %s", r.DetailsMap()["version"], fakees.DefaultVersion)
	}
	if n := fake.Requests(); n != 3 {
		t.Fatalf("second probe made %d requests in all, want 3 (version cached)", n)
	}

	fake.FailWith(http.StatusServiceUnavailable)
	if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateDown {
		t.Fatalf("probe 3: %s, want DOWN", r.State)
	}
	fake.FailWith(0)
	r := probes.RunProbe(context.Background(), target, c)
	if r.State != probes.StateUp || r.DetailsMap()["version"] != "8.16.1" {
		t.Fatalf("probe 4: %s version %v, want UP with the new version", r.State, r.DetailsMap()["version"])
	}

	st := c.Stats()
	if st.Acquires != 6 || st.Errors != 1 || st.InUse != 0 || st.Open < 1 {
		t.Fatalf("stats %+v, want 6 requests, 1 error, none in use, >=1 open", st)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateDown {
		t.Fatalf("probe after Close: %s, want DOWN", r.State)
	}
}

func TestElasticsearchOpen(t *testing.T) {
	if _, err := probes.OpenElasticsearch(context.Background(), probes.Target{Kind: probes.Elasticsearch, Name: "x"}); probes.Classify(err) != probes.ErrKindConfig {
		t.Fatalf("no address: err %v, want a config error", err)
	}
	// Opening does no I/O: a target nobody listens on opens fine.
	c, err := probes.OpenElasticsearch(context.Background(), probes.Target{Kind: probes.Elasticsearch, Host: "127.0.0.1", Port: 1})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	_ = c.Close()
}
