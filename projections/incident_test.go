package projections

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func tr(epoch, seq int64, from, to string, at int64) Transition {
	return Transition{Epoch: epoch, Seq: seq, From: from, To: to, At: at, Reason: "now " + to}
}

// brief renders alerts as "id state severity reason resolved_at(ms)".
func brief(as []Alert) []string {
	out := []string{}
	for _, a := range as {
		r := int64(-1)
		if a.ResolvedAt != nil {
			r = a.ResolvedAt.UnixMilli()
		}
		out = append(out, fmt.Sprintf("%s %s %s %q %d %s", a.ID, a.State, a.Severity, a.Reason, r, a.End))
	}
	return out
}

func TestIncidents(t *testing.T) {
	const U, G, D, X = StateUp, StateDegraded, StateDown, StateUnknown
	for _, c := range []struct {
		name string
		log  []Transition
		want []string
	}{
		{"initial UP opens nothing", []Transition{tr(1, 1, X, U, 10)}, []string{}},
		{"initial DOWN opens", []Transition{tr(1, 1, X, D, 10)}, []string{`pg/a:1:1 firing critical "now DOWN" -1 `}},
		{"severity follows the latest", []Transition{tr(1, 1, X, U, 10), tr(1, 2, U, G, 20), tr(1, 3, G, D, 30), tr(1, 4, D, G, 40)},
			[]string{`pg/a:1:2 firing warning "now DEGRADED" -1 `}},
		{"resolved by UP", []Transition{tr(1, 1, X, U, 10), tr(1, 2, U, D, 20), tr(1, 3, D, U, 30), tr(1, 4, U, G, 40)},
			[]string{`pg/a:1:2 resolved critical "now DOWN" 30 seq`, `pg/a:1:4 firing warning "now DEGRADED" -1 `}},
		{"a gap stops the walk", []Transition{tr(1, 1, X, U, 10), tr(1, 2, U, D, 20), tr(1, 4, G, U, 40)},
			[]string{`pg/a:1:2 firing critical "now DOWN" -1 `}},
		{"a newer epoch resolves", []Transition{tr(1, 1, X, U, 10), tr(1, 2, U, D, 20), tr(500, 1, X, D, 600)},
			[]string{`pg/a:1:2 resolved critical "now DOWN" 500 epoch`, `pg/a:500:1 firing critical "now DOWN" -1 `}},
		{"duplicates count once", []Transition{tr(1, 1, X, D, 10), tr(1, 1, X, D, 10), tr(1, 2, D, U, 20), tr(1, 2, D, U, 20)},
			[]string{`pg/a:1:1 resolved critical "now DOWN" 20 seq`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := brief(Incidents("pg", "a", c.log))
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %q\nwant %q", got, c.want)
			}
			// Any order gives the same alerts.
			for range 20 {
				log := append([]Transition(nil), c.log...)
				rand.Shuffle(len(log), func(i, j int) { log[i], log[j] = log[j], log[i] })
				if got := brief(Incidents("pg", "a", log)); !reflect.DeepEqual(got, c.want) {
					t.Fatalf("order %v: got %q", log, got)
				}
			}
		})
	}
}

func TestResolveRemoved(t *testing.T) {
	as := Incidents("pg", "a", []Transition{tr(1, 1, StateUnknown, StateDown, 10), tr(1, 2, StateDown, StateUp, 20), tr(1, 3, StateUp, StateDegraded, 30)})
	now := time.UnixMilli(99)
	got := brief(ResolveRemoved(as, now))
	want := []string{`pg/a:1:1 resolved critical "now DOWN" 20 seq`, `pg/a:1:3 resolved warning "removed" 99 removed`}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if as[1].State != AlertFiring {
		t.Fatal("ResolveRemoved changed its input")
	}
}
