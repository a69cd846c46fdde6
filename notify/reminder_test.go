package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/projections"
)

// fixedAlerts is an AlertSource of fixed alerts.
type fixedAlerts struct {
	firing, resolved []projections.Alert
}

func (f *fixedAlerts) FiringAlerts(context.Context) ([]projections.Alert, error) {
	return f.firing, nil
}

func (f *fixedAlerts) ResolvedSince(_ context.Context, since time.Time) ([]projections.Alert, error) {
	var out []projections.Alert
	for _, a := range f.resolved {
		if !a.ResolvedAt.Before(since) {
			out = append(out, a)
		}
	}
	return out, nil
}

type ackSet map[string]bool

func (a ackSet) Acked(_ context.Context, id string) (bool, error) { return a[id], nil }

func firingAlert(name string, started time.Time) projections.Alert {
	return projections.Alert{ID: projections.AlertID("postgres", name, 1, 2), Type: "postgres", Name: name,
		Severity: projections.SeverityCritical, State: projections.AlertFiring, Reason: "refused", StartedAt: started, Epoch: 1, Seq: 2}
}

// replicas are three reminder tickers (with their workers) on one Redis
// log and one clock.
func replicas(t *testing.T, src AlertSource, rs func() []Receiver, clk *fakeClock, o ReminderOptions) []*Reminders {
	t.Helper()
	l := sharedLog(t, clk.Now)
	var out []*Reminders
	for i := range 3 {
		owner := fmt.Sprintf("replica-%d", i)
		wo := fastOptions(owner)
		wo.Now = clk.Now
		w := newWorker(t, l, registry(t, rs()...), wo)
		ro := o
		ro.Owner, ro.Now = owner, clk.Now
		r, err := NewReminders(src, w, l, ro)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// tickAll ticks every replica at once.
func tickAll(t *testing.T, rs []*Reminders) {
	t.Helper()
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Go(func() {
			if err := r.Tick(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestRemindersOncePerIntervalAcrossReplicas(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: t0}
	rec := newRecorder(t)
	a, acked := firingAlert("orders", t0), firingAlert("billing", t0)
	src := &fixedAlerts{firing: []projections.Alert{a, acked}}
	rs := replicas(t, src, func() []Receiver { return []Receiver{hookReceiver(t, "ops", rec, Route{})} }, clk,
		ReminderOptions{RepeatInterval: time.Hour, Acker: ackSet{acked.ID: true}})
	base := NewID("ops", a.ID, StateFiring)
	for _, step := range []struct {
		at   time.Duration
		want []string
	}{
		{30 * time.Minute, nil},
		{61 * time.Minute, []string{ReminderID(base, 1)}},
		{62 * time.Minute, []string{ReminderID(base, 1)}},
		{119 * time.Minute, []string{ReminderID(base, 1)}},
		{121 * time.Minute, []string{ReminderID(base, 1), ReminderID(base, 2)}},
		{150 * time.Minute, []string{ReminderID(base, 1), ReminderID(base, 2)}},
	} {
		clk.Set(t0.Add(step.at))
		tickAll(t, rs)
		tickAll(t, rs)
		if got := webhookIDs(rec.requests()); !slices.Equal(got, step.want) {
			t.Fatalf("at +%v: sent %v, want %v", step.at, got, step.want)
		}
	}
	for _, n := range bodies(t, rec.requests()) {
		if n.AlertID != a.ID || n.State != StateFiring {
			t.Errorf("reminder %+v", n)
		}
	}
}

func TestRemindersOff(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: t0.Add(10 * time.Hour)}
	rec := newRecorder(t)
	rs := replicas(t, &fixedAlerts{firing: []projections.Alert{firingAlert("orders", t0)}},
		func() []Receiver { return []Receiver{hookReceiver(t, "ops", rec, Route{})} }, clk, ReminderOptions{RepeatInterval: -1})
	tickAll(t, rs)
	if got := len(rec.requests()); got != 0 {
		t.Fatalf("%d reminders with reminders off", got)
	}
}

func TestAlertmanagerResendsOncePerIntervalAcrossReplicas(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	clk := &fakeClock{t: t0.Add(10 * time.Second)}
	rec := newRecorder(t)
	fire := firingAlert("orders", t0)
	res := firingAlert("billing", t0)
	resolvedAt := t0.Add(5 * time.Second)
	res.State, res.ResolvedAt = projections.AlertResolved, &resolvedAt
	src := &fixedAlerts{firing: []projections.Alert{fire}, resolved: []projections.Alert{res}}
	am := func() []Receiver {
		s, err := NewAlertmanager(AlertmanagerConfig{URLs: []string{rec.URL}, ResendInterval: Duration(time.Minute)}, Deps{Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return []Receiver{{Name: "am", Kind: KindAlertmanager, Sender: s}}
	}
	rs := replicas(t, src, am, clk, ReminderOptions{RepeatInterval: time.Hour})
	count := func() (firing, resolved int) {
		for _, r := range rec.requests() {
			var alerts []AlertmanagerAlert
			if err := json.Unmarshal(r.Body, &alerts); err != nil || len(alerts) != 1 {
				t.Fatalf("body %s: %v", r.Body, err)
			}
			if alerts[0].Labels["target"] == "orders" {
				firing++
			} else {
				resolved++
			}
		}
		return firing, resolved
	}
	for _, step := range []struct {
		at          time.Duration
		fire, resol int
	}{
		{10 * time.Second, 1, 1},
		{50 * time.Second, 1, 1}, // same interval bucket
		{61 * time.Second, 2, 2}, // next bucket
		{62 * time.Second, 2, 2}, // same bucket
		{14 * time.Minute, 3, 3}, // still within 15 min of the resolve
		{16 * time.Minute, 4, 3}, // resolved: window over
		{16*time.Minute + 30*time.Second, 4, 3},
	} {
		clk.Set(t0.Add(step.at))
		tickAll(t, rs)
		if f, r := count(); f != step.fire || r != step.resol {
			t.Fatalf("at +%v: %d firing and %d resolved re-sends, want %d and %d", step.at, f, r, step.fire, step.resol)
		}
	}
	if got := len(rec.requests()); got != 7 {
		t.Errorf("%d requests", got)
	}
}
