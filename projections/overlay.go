package projections

import (
	"slices"
	"strings"
	"time"
)

// Decided is the coordinator's record of a target's state: the state
// machine's latest decision, which the read models reach once the bus
// delivers the transition.
type Decided struct {
	Type, Name string
	State      string
	Epoch, Seq int64
	// Since is when the state was entered and Reason why (the last
	// transition); LastCheck is the slot of the latest check (ms).
	Since     int64
	Reason    string
	LastCheck int64
}

// Overlay brings read-model statuses up to the coordinator's decisions:
// a target whose decided transition the read model has not received yet
// (the bus is down or behind) takes the decided state, since and reason,
// and is marked not projected; a decided target the read model does not
// know at all is added the same way. Statuses stay sorted by type and
// name. It is pure: the caller reads both sides.
func Overlay(statuses []TargetStatus, decided []Decided) []TargetStatus {
	byID := make(map[string]int, len(statuses))
	out := slices.Clone(statuses)
	for i := range out {
		out[i].Projected = true
		byID[out[i].Type+"/"+out[i].Name] = i
	}
	for _, d := range decided {
		if d.State == "" || d.State == StateUnknown || d.Seq < 1 {
			continue
		}
		i, ok := byID[d.Type+"/"+d.Name]
		if !ok {
			out = append(out, TargetStatus{Type: d.Type, Name: d.Name, State: StateUnknown})
			i = len(out) - 1
			byID[d.Type+"/"+d.Name] = i
		}
		st := &out[i]
		if d.Epoch > st.Epoch || (d.Epoch == st.Epoch && d.Seq > st.Seq) || st.State == StateUnknown {
			since := time.UnixMilli(d.Since).UTC()
			st.State, st.Since, st.Reason, st.Epoch, st.Seq = d.State, &since, d.Reason, d.Epoch, d.Seq
			st.Projected = false
		}
		if d.LastCheck > st.Slot && !st.Projected {
			at := time.UnixMilli(d.LastCheck).UTC()
			st.CheckedAt = &at
		}
	}
	slices.SortFunc(out, func(a, b TargetStatus) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}
