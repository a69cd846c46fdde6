package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	amtest "github.com/dbhealth/database-service/testsupport/alertmanager"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// TestAlertmanagerReal pushes alerts into a real Alertmanager from two
// "replicas" and checks what its webhook receives.
func TestAlertmanagerReal(t *testing.T) {
	sink := amtest.NewSink(t)
	am := amtest.Start(t, amtest.Options{WebhookURL: sink.URL, GroupWait: 200 * time.Millisecond, GroupInterval: 500 * time.Millisecond})
	replica := func(skew time.Duration) *Alertmanager {
		a, err := NewAlertmanager(AlertmanagerConfig{URLs: []string{am.URL}}, Deps{Now: func() time.Time { return time.Now().Add(skew) }})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a, b := replica(0), replica(3*time.Second)
	ctx := context.Background()
	n := sample()
	n.StartedAt = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)

	if err := a.Send(ctx, n); err != nil {
		t.Fatalf("replica a: %v", err)
	}
	if err := b.Send(ctx, n); err != nil {
		t.Fatalf("replica b: %v", err)
	}
	wait.Eventually(t, 10*time.Second, "the firing notification", func() (bool, string) {
		m := sink.Messages()
		return len(m) >= 1, fmt.Sprint(len(m), " messages")
	})
	// Several group intervals: a duplicate would have arrived by now.
	time.Sleep(4 * 500 * time.Millisecond)
	if err := a.Send(ctx, n); err != nil { // a resend changes nothing either
		t.Fatal(err)
	}
	time.Sleep(3 * 500 * time.Millisecond)
	msgs := sink.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d notifications from two replicas, want exactly 1: %+v", len(msgs), msgs)
	}
	want := AlertLabels(n, DefaultService)
	m := msgs[0]
	if m.Status != "firing" || len(m.Alerts) != 1 || !maps.Equal(m.Alerts[0].Labels, want) {
		t.Fatalf("firing notification %+v, want one alert with labels %v", m, want)
	}
	if al := m.Alerts[0]; al.Annotations["summary"] != "postgres/orders is DOWN" || al.GeneratorURL != n.Link || !al.StartsAt.Equal(n.StartedAt) {
		t.Errorf("alert %+v", al)
	}

	got := listAlerts(t, am.URL)
	if len(got) != 1 || !maps.Equal(got[0].Labels, want) {
		t.Fatalf("/api/v2/alerts = %+v, want one alert with labels %v", got, want)
	}

	r := n
	at := time.Now().UTC()
	r.State, r.ResolvedAt, r.ID = StateResolved, &at, NewID(n.Receiver, n.AlertID, StateResolved)
	if err := b.Send(ctx, r); err != nil {
		t.Fatalf("resolve: %v", err)
	}
	if err := a.Send(ctx, r); err != nil { // the other replica resolves too
		t.Fatalf("resolve: %v", err)
	}
	wait.Eventually(t, 10*time.Second, "the resolved notification", func() (bool, string) {
		m := sink.Messages()
		return len(m) >= 2, fmt.Sprint(len(m), " messages")
	})
	time.Sleep(3 * 500 * time.Millisecond)
	msgs = sink.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d notifications, want firing then one resolved: %+v", len(msgs), msgs)
	}
	if m := msgs[1]; m.Status != "resolved" || len(m.Alerts) != 1 || m.Alerts[0].Status != "resolved" || !maps.Equal(m.Alerts[0].Labels, want) {
		t.Errorf("resolved notification %+v", m)
	}
}

type listedAlert struct {
	Labels map[string]string `json:"labels"`
	Status struct {
		State string `json:"state"`
	} `json:"status"`
}

func listAlerts(t *testing.T, base string) []listedAlert {
	t.Helper()
	resp, err := http.Get(base + "/api/v2/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out []listedAlert
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}
