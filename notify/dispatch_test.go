package notify

import (
	"slices"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

func TestNotifications(t *testing.T) {
	f := false
	all := Receiver{Name: "all"}
	crit := Receiver{Name: "crit", Route: Route{Severities: []string{"critical"}}}
	quiet := Receiver{Name: "quiet", Route: Route{SendResolved: &f}}
	rs := []Receiver{all, crit, quiet}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	sc := func(seq int64, from, to string) events.StateChanged {
		return events.StateChanged{Target: events.TargetRef{Type: "postgres", Name: "orders"}, From: from, To: to,
			Seq: seq, Epoch: 5, At: t0.Add(time.Duration(seq) * time.Minute), Reason: from + "->" + to, Initial: from == "UNKNOWN"}
	}
	alert2 := projections.AlertID("postgres", "orders", 5, 2)
	alert5 := projections.AlertID("postgres", "orders", 5, 5)
	steps := []struct {
		s    events.StateChanged
		want []string // receiver/state or receiver/escalated
	}{
		{sc(1, "UNKNOWN", "UP"), nil},
		{sc(2, "UP", "DEGRADED"), []string{"all/firing", "quiet/firing"}},
		{sc(3, "DEGRADED", "DOWN"), []string{"all/escalated", "all/firing", "crit/firing", "quiet/escalated", "quiet/firing"}},
		{sc(4, "DOWN", "UP"), []string{"all/firing", "all/resolved", "crit/firing", "crit/resolved", "quiet/firing"}},
		{sc(5, "UP", "DOWN"), []string{"all/firing", "crit/firing", "quiet/firing"}},
	}
	var trs []projections.Transition
	for _, st := range steps {
		s := st.s
		trs = append(trs, projections.TransitionOf(s.Epoch, s.Seq, s.From, s.To, s.At, s.Reason))
		ns := Notifications(s, trs, rs, func(id string) string { return "http://x/v1/alerts/" + id })
		var got []string
		for _, n := range ns {
			kind := string(n.State)
			want := NewID(n.Receiver, n.AlertID, n.State)
			if n.ID != want {
				kind = "escalated"
				want += ":escalated:5:" + "3"
			}
			if n.ID != want {
				t.Errorf("seq %d: id %s", s.Seq, n.ID)
			}
			wantAlert := alert2
			if s.Seq == 5 {
				wantAlert = alert5
			}
			if n.AlertID != wantAlert || n.EventID != s.ID() || n.Link != "http://x/v1/alerts/"+wantAlert {
				t.Errorf("seq %d: %+v", s.Seq, n)
			}
			got = append(got, n.Receiver+"/"+kind)
		}
		slices.Sort(got)
		if !slices.Equal(got, st.want) {
			t.Errorf("seq %d %s->%s: got %v, want %v", s.Seq, s.From, s.To, got, st.want)
		}
	}
	// The resolved notification carries the resolve time and severity.
	last := Notifications(sc(4, "DOWN", "UP"), trs[:4], rs, nil)
	for _, n := range last {
		if n.State == StateResolved && (n.ResolvedAt == nil || !n.ResolvedAt.Equal(t0.Add(4*time.Minute)) || n.Severity != events.SeverityCritical) {
			t.Errorf("resolved: %+v", n)
		}
		if n.State == StateFiring && n.ResolvedAt != nil {
			t.Errorf("firing with resolved_at: %+v", n)
		}
	}
}

func TestNotificationsNewEpochResolves(t *testing.T) {
	t0 := time.UnixMilli(1_700_000_000_000).UTC()
	old := events.StateChanged{Target: events.TargetRef{Type: "redis", Name: "c"}, From: "UP", To: "DOWN", Seq: 4, Epoch: 1, At: t0}
	next := events.StateChanged{Target: old.Target, From: "UNKNOWN", To: "UP", Seq: 1, Epoch: t0.Add(time.Hour).UnixMilli(), At: t0.Add(time.Hour), Initial: true}
	trs := []projections.Transition{
		projections.TransitionOf(old.Epoch, old.Seq, old.From, old.To, old.At, ""),
		projections.TransitionOf(next.Epoch, next.Seq, next.From, next.To, next.At, ""),
	}
	ns := Notifications(next, trs, []Receiver{{Name: "all"}}, nil)
	var states []State
	for _, n := range ns {
		states = append(states, n.State)
	}
	if !slices.Equal(states, []State{StateFiring, StateResolved}) {
		t.Fatalf("an incident of an older epoch resolved by a new one: %v", states)
	}
	if got := Notifications(next, trs[1:], []Receiver{{Name: "all"}}, nil); len(got) != 0 {
		t.Fatalf("a first initial UP notified %v", got)
	}
}
