package projections

import "testing"

func TestDecide(t *testing.T) {
	const U, G, D = StateUp, StateDegraded, StateDown
	type want struct {
		moved    bool
		from, to string
		pending  bool
	}
	for _, c := range []struct {
		name  string
		obs   []string
		th    Thresholds
		steps []want // one per observation
		final string
	}{
		{"initial UP is immediate", []string{U}, Thresholds{}, []want{{true, "UNKNOWN", U, false}}, U},
		{"initial DOWN is immediate", []string{D}, Thresholds{}, []want{{true, "UNKNOWN", D, false}}, D},
		{"three DOWN leave UP", []string{U, D, D, D}, Thresholds{},
			[]want{{true, "UNKNOWN", U, false}, {pending: true}, {pending: true}, {true, U, D, false}}, D},
		{"UP in between resets", []string{U, D, D, U, D, D}, Thresholds{},
			[]want{{true, "UNKNOWN", U, false}, {pending: true}, {pending: true}, {}, {pending: true}, {pending: true}}, U},
		{"DOWN and DEGRADED count together, worst wins", []string{U, D, G, D}, Thresholds{},
			[]want{{true, "UNKNOWN", U, false}, {pending: true}, {pending: true}, {true, U, D, false}}, D},
		{"alternating DEGRADED DOWN leaves UP to DOWN", []string{U, G, D, G}, Thresholds{},
			[]want{{true, "UNKNOWN", U, false}, {pending: true}, {pending: true}, {true, U, D, false}}, D},
		{"only DEGRADED goes DEGRADED", []string{U, G, G, G}, Thresholds{},
			[]want{{true, "UNKNOWN", U, false}, {pending: true}, {pending: true}, {true, U, G, false}}, G},
		{"two UP come back", []string{D, U, U}, Thresholds{},
			[]want{{true, "UNKNOWN", D, false}, {pending: true}, {true, D, U, false}}, U},
		{"recovery interrupted by the stable state", []string{D, U, D, U, U}, Thresholds{},
			[]want{{true, "UNKNOWN", D, false}, {pending: true}, {}, {pending: true}, {true, D, U, false}}, U},
		{"DOWN to DEGRADED after failure threshold", []string{D, G, G, G}, Thresholds{},
			[]want{{true, "UNKNOWN", D, false}, {pending: true}, {pending: true}, {true, D, G, false}}, G},
		{"DEGRADED to DOWN after failure threshold", []string{G, D, D, D}, Thresholds{},
			[]want{{true, "UNKNOWN", G, false}, {pending: true}, {pending: true}, {true, G, D, false}}, D},
		{"recovery run broken by the other bad state", []string{D, U, G, U, U}, Thresholds{},
			[]want{{true, "UNKNOWN", D, false}, {pending: true}, {pending: true}, {pending: true}, {true, D, U, false}}, U},
		{"thresholds of one", []string{U, D, U}, Thresholds{Failure: 1, Success: 1},
			[]want{{true, "UNKNOWN", U, false}, {true, U, D, false}, {true, D, U, false}}, U},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := NewMachine(42)
			for i, s := range c.obs {
				var st Step
				m, st = Decide(m, Observation{Slot: int64(i + 1), State: s, At: int64(1000 * (i + 1))}, c.th)
				w := c.steps[i]
				if !st.Applied || st.Moved != w.moved || st.Pending != w.pending || (w.moved && (st.From != w.from || st.To != w.to)) {
					t.Fatalf("observation %d (%s): step %+v, want %+v", i, s, st, w)
				}
				if st.Moved && st.Initial != (w.from == StateUnknown) {
					t.Fatalf("observation %d: initial = %v", i, st.Initial)
				}
			}
			if m.Stable != c.final {
				t.Fatalf("stable = %s, want %s", m.Stable, c.final)
			}
		})
	}
}

func TestDecideFencesAndCounts(t *testing.T) {
	m := NewMachine(7)
	m, st := Decide(m, Observation{Slot: 10, State: StateUp, At: 10}, Thresholds{})
	if !st.Moved || st.Seq != 1 || m.Since != 10 {
		t.Fatalf("first step %+v, machine %+v", st, m)
	}
	m, _ = Decide(m, Observation{Slot: 20, State: StateDown, At: 20}, Thresholds{})
	before := m
	for _, slot := range []int64{20, 15, 0} {
		var st Step
		m, st = Decide(m, Observation{Slot: slot, State: StateDown, At: slot}, Thresholds{})
		if st.Applied || !st.Pending || m != before {
			t.Fatalf("slot %d not fenced: %+v %+v", slot, st, m)
		}
	}
	m, _ = Decide(m, Observation{Slot: 30, State: StateDown, At: 30}, Thresholds{})
	m, st = Decide(m, Observation{Slot: 40, State: StateDown, At: 40}, Thresholds{})
	if !st.Moved || st.Seq != 2 || m.Seq != 2 || m.Since != 40 || m.Epoch != 7 || m.LastSlot != 40 {
		t.Fatalf("after DOWN: %+v %+v", st, m)
	}
}

// The defect this rule fixes: a target alternating between timeouts and
// too many connections used to reset its count on every change and never
// leave UP.
func TestAlternatingBadStatesLeaveUp(t *testing.T) {
	m := NewMachine(1)
	m, _ = Decide(m, Observation{Slot: 1, State: StateUp}, Thresholds{})
	for i := range 11 {
		s := []string{StateDown, StateDegraded}[i%2]
		m, _ = Decide(m, Observation{Slot: int64(i + 2), State: s}, Thresholds{})
	}
	if m.Stable != StateDown || m.Cand != "" {
		t.Fatalf("machine %+v, want DOWN with nothing pending", m)
	}
}

func TestDecideReasonOfTheWorst(t *testing.T) {
	m := NewMachine(1)
	m, _ = Decide(m, Observation{Slot: 1, State: StateUp, Reason: "healthy"}, Thresholds{})
	m, _ = Decide(m, Observation{Slot: 2, State: StateDown, Reason: "timeout"}, Thresholds{})
	m, _ = Decide(m, Observation{Slot: 3, State: StateDegraded, Reason: "connections 95%"}, Thresholds{})
	_, st := Decide(m, Observation{Slot: 4, State: StateDegraded, Reason: "connections 96%"}, Thresholds{})
	if !st.Moved || st.To != StateDown || st.Reason != "timeout" {
		t.Fatalf("step %+v, want DOWN because of the timeout", st)
	}
}
