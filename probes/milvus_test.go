package probes_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/milvus-io/milvus-proto/go-api/v2/milvuspb"
	"google.golang.org/grpc/codes"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/fakemilvus"
	"github.com/dbhealth/database-service/testsupport/servers"
)

func TestMilvusFactsHealth(t *testing.T) {
	probes.RunHealthCases(t, []probes.HealthCase{
		{"healthy", probes.MilvusFacts{Healthy: true}, probes.Limits{}, probes.StateUp, ""},
		{"healthy, unknown quota state", probes.MilvusFacts{Healthy: true, QuotaStates: []string{"Unknown"}}, probes.Limits{}, probes.StateUp, ""},
		{"unhealthy with reasons", probes.MilvusFacts{Reasons: []string{"rootcoord down", "querynode 3 lost"}}, probes.Limits{}, probes.StateDown, "rootcoord down; querynode 3 lost"},
		{"unhealthy without reasons", probes.MilvusFacts{}, probes.Limits{}, probes.StateDown, "unhealthy"},
		{"unhealthy and quota denied", probes.MilvusFacts{QuotaStates: []string{"DenyToWrite"}, Reasons: []string{"x"}}, probes.Limits{}, probes.StateDown, "unhealthy"},
		{"read limited", probes.MilvusFacts{Healthy: true, QuotaStates: []string{"ReadLimited"}, Reasons: []string{"rate limit exceeded"}}, probes.Limits{}, probes.StateDegraded, "ReadLimited: rate limit exceeded"},
		{"write denied", probes.MilvusFacts{Healthy: true, QuotaStates: []string{"DenyToWrite"}}, probes.Limits{}, probes.StateDegraded, "DenyToWrite"},
		{"write limited", probes.MilvusFacts{Healthy: true, QuotaStates: []string{"WriteLimited"}}, probes.Limits{}, probes.StateDegraded, "WriteLimited"},
		{"read denied", probes.MilvusFacts{Healthy: true, QuotaStates: []string{"DenyToRead", "DenyToWrite"}}, probes.Limits{}, probes.StateDegraded, "DenyToRead, DenyToWrite"},
	})
}

// milvusTarget is a Milvus target on host:port with a short timeout.
func milvusTarget(host string, port int) probes.Target {
	return probes.Target{Kind: probes.Milvus, Name: "milvus-test", Host: host, Port: port, Timeout: 2 * time.Second}
}

func TestMilvusHealthy(t *testing.T) {
	fake := fakemilvus.New(t)
	target := milvusTarget(fake.Host(), fake.Port())
	c := probes.OpenForTest(t, probes.OpenMilvus, target)
	r := probes.RequireProbe(t, target, c, probes.StateUp, probes.ErrKindNone)
	if r.DetailsMap()["version"] != fakemilvus.DefaultVersion || r.DetailsMap()["is_healthy"] != true || r.DetailsMap()["deploy_mode"] != "STANDALONE" {
		t.Fatalf("details %s", r.Details)
	}
	// The connection and the version are reused by the next probe.
	if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateUp {
		t.Fatalf("second probe: %s %s", r.State, r.Error)
	}
	if n, v := fake.Calls("Connect"), fake.Calls("GetVersion"); n != 1 || v != 1 {
		t.Fatalf("Connect called %d times, GetVersion %d, want 1 each", n, v)
	}
	if n := fake.Calls("CheckHealth"); n != 2 {
		t.Fatalf("CheckHealth called %d times, want 2", n)
	}
	if st := c.Stats(); st.Acquires != 2 || st.Errors != 0 || st.Open != 1 || st.InUse != 0 {
		t.Fatalf("stats %+v, want 2 probes, no error, 1 open", st)
	}
}

func TestMilvusUnhealthy(t *testing.T) {
	fake := fakemilvus.New(t)
	fake.SetHealthy(false, "rootcoord is not healthy", "querynode 12 lost")
	target := milvusTarget(fake.Host(), fake.Port())
	r := probes.RequireOpenProbe(t, probes.OpenMilvus, target, probes.StateDown, probes.ErrKindNone)
	if !strings.Contains(r.Reason, "rootcoord is not healthy; querynode 12 lost") {
		t.Fatalf("reason %q lacks the server's reasons", r.Reason)
	}
	if reasons, _ := r.DetailsMap()["reasons"].([]any); len(reasons) != 2 {
		t.Fatalf("details reasons %v", r.DetailsMap()["reasons"])
	}
}

func TestMilvusQuota(t *testing.T) {
	tests := []struct {
		states []milvuspb.QuotaState
		want   probes.State
	}{
		{[]milvuspb.QuotaState{milvuspb.QuotaState_DenyToWrite}, probes.StateDegraded},
		{[]milvuspb.QuotaState{milvuspb.QuotaState_ReadLimited}, probes.StateDegraded},
		{nil, probes.StateUp},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.states), func(t *testing.T) {
			fake := fakemilvus.New(t)
			fake.SetQuotaStates(tt.states...)
			target := milvusTarget(fake.Host(), fake.Port())
			r := probes.RequireOpenProbe(t, probes.OpenMilvus, target, tt.want, probes.ErrKindNone)
			for _, s := range tt.states {
				if !strings.Contains(r.Reason, s.String()) {
					t.Errorf("reason %q lacks %s", r.Reason, s)
				}
			}
		})
	}
}

func TestMilvusConnectRefused(t *testing.T) {
	target := milvusTarget("127.0.0.1", servers.FreePort(t))
	target.Timeout = 5 * time.Second
	r := probes.RequireOpenProbe(t, probes.OpenMilvus, target, probes.StateDown, probes.ErrKindRefused)
	// The blocking dial must give up on a refusal, not wait for the deadline.
	if r.Latency >= target.Timeout {
		t.Fatalf("refused dial took %v, the whole timeout", r.Latency)
	}
	t.Logf("refused after %v", r.Latency)
}

func TestMilvusSlowServerTimesOut(t *testing.T) {
	fake := fakemilvus.New(t)
	fake.SetDelay(5 * time.Second)
	target := milvusTarget(fake.Host(), fake.Port())
	target.Timeout = 300 * time.Millisecond
	requireTimesOutSoon(t, probes.OpenMilvus, target)
}

func TestMilvusRetryableCodesNotRetried(t *testing.T) {
	// The SDK retries Unavailable and ResourceExhausted up to 6 times with
	// backoff (0.18s, 0.54s, 1.6s, ...): a probe must not.
	for _, code := range []codes.Code{codes.Unavailable, codes.ResourceExhausted} {
		t.Run(code.String(), func(t *testing.T) {
			fake := fakemilvus.New(t)
			fake.FailWith(code)
			target := milvusTarget(fake.Host(), fake.Port())
			target.Timeout = 3 * time.Second
			probes.RequireOpenProbe(t, probes.OpenMilvus, target, probes.StateDown, probes.ErrKindUnavailable)
			if n := fake.Calls("Connect"); n != 1 {
				t.Fatalf("Connect called %d times, want 1 (no retry)", n)
			}
		})
	}
}

func TestMilvusAuth(t *testing.T) {
	const user, good, bad = "root", "Right-Milvus-pw", "Wr0ng-Milvus-pw"
	fake := fakemilvus.New(t)
	fake.RequireAuth(user, good)

	runLoginCases(t, probes.OpenMilvus, milvusTarget(fake.Host(), fake.Port()), user, good, bad, func(t *testing.T, r probes.Result) {
		if !strings.Contains(r.Error, fakemilvus.MsgAuthFailure) {
			t.Errorf("error %q lacks the server's message", r.Error)
		}
		// The rejected connection is closed, not leaked until the next dial.
		milvusWaitConns(t, fake, 0)
	})
	t.Run("no credentials", func(t *testing.T) {
		target := milvusTarget(fake.Host(), fake.Port())
		probes.RequireOpenProbe(t, probes.OpenMilvus, target, probes.StateDown, probes.ErrKindAuth)
	})
}

func TestMilvusReconnectsAfterRestart(t *testing.T) {
	fake := fakemilvus.New(t)
	target := milvusTarget(fake.Host(), fake.Port())
	c := probes.OpenForTest(t, probes.OpenMilvus, target)
	if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateUp {
		t.Fatalf("before stop: %s %s", r.State, r.Error)
	}
	fake.Stop()
	r := probes.RunProbe(context.Background(), target, c)
	if r.State != probes.StateDown || (r.ErrorKind != probes.ErrKindRefused && r.ErrorKind != probes.ErrKindUnavailable) {
		t.Fatalf("stopped: state %s kind %q (%s), want DOWN/refused or unavailable", r.State, r.ErrorKind, r.Error)
	}
	fake.SetVersion("v2.4.99")
	fake.Restart()
	r = probes.RunProbe(context.Background(), target, c)
	if r.State != probes.StateUp || r.DetailsMap()["version"] != "v2.4.99" {
		t.Fatalf("restarted: state %s (%s) version %v, want UP with the new version", r.State, r.Error, r.DetailsMap()["version"])
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if r := probes.RunProbe(context.Background(), target, c); r.State != probes.StateDown {
		t.Fatalf("after Close: %s, want DOWN", r.State)
	}
}

func TestMilvusOpen(t *testing.T) {
	for _, target := range []probes.Target{
		{Kind: probes.Milvus, Name: "no-host", Port: 19530},
		{Kind: probes.Milvus, Name: "no-port", Host: "127.0.0.1"},
	} {
		if _, err := probes.OpenMilvus(context.Background(), target); probes.Classify(err) != probes.ErrKindConfig {
			t.Errorf("%s: err %v, want a config error", target.Name, err)
		}
	}
}
