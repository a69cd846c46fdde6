package projections

import (
	"testing"
	"time"
)

func TestOverlay(t *testing.T) {
	at := func(ms int64) *time.Time { x := time.UnixMilli(ms).UTC(); return &x }
	read := []TargetStatus{
		{Type: "redis", Name: "behind", State: StateUp, Epoch: 5, Seq: 1, Since: at(100), Slot: 900, CheckedAt: at(900)},
		{Type: "redis", Name: "current", State: StateDown, Epoch: 5, Seq: 2, Since: at(200), Reason: "refused", Slot: 950},
		{Type: "postgres", Name: "undecided", State: StateUnknown},
	}
	decided := []Decided{
		{Type: "redis", Name: "behind", State: StateDown, Epoch: 5, Seq: 2, Since: 1000, Reason: "timeout", LastCheck: 1200},
		{Type: "redis", Name: "current", State: StateDown, Epoch: 5, Seq: 2, Since: 200, Reason: "refused", LastCheck: 1300},
		{Type: "milvus", Name: "new", State: StateUp, Epoch: 7, Seq: 1, Since: 1100, LastCheck: 1100},
		{Type: "redis", Name: "fresh", State: StateUnknown},
	}
	got := Overlay(read, decided)
	want := []struct {
		name, state string
		projected   bool
		since       int64
		checked     int64
	}{
		{"new", StateUp, false, 1100, 1100},
		{"undecided", StateUnknown, true, 0, 0},
		{"behind", StateDown, false, 1000, 1200},
		{"current", StateDown, true, 200, 0},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d statuses: %+v", len(got), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Name != w.name || g.State != w.state || g.Projected != w.projected {
			t.Fatalf("%d: %+v, want %+v", i, g, w)
		}
		if w.since != 0 && g.Since.UnixMilli() != w.since {
			t.Errorf("%s since %v", g.Name, g.Since)
		}
		if w.checked != 0 && (g.CheckedAt == nil || g.CheckedAt.UnixMilli() != w.checked) {
			t.Errorf("%s checked_at %v, want %d", g.Name, g.CheckedAt, w.checked)
		}
	}
	if got[2].Reason != "timeout" || got[3].CheckedAt != nil {
		t.Errorf("overlaid fields: %+v %+v", got[2], got[3])
	}
	if read[0].State != StateUp {
		t.Error("Overlay changed its input")
	}
}
