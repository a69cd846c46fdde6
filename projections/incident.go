package projections

import (
	"cmp"
	"slices"
	"strconv"
	"time"
)

// Incident derivation: how a target's transitions become alerts. It is
// pure; the Redis alert script computes the same incrementally (whatever
// order the transitions arrive in), localstore calls it directly, and a
// differential test proves both agree.

// Transition is one recorded transition of a target, as the alerts
// projection keeps it.
type Transition struct {
	Epoch, Seq int64
	From, To   string
	At         int64 // ms
	Reason     string
}

// TransitionOf is the record of a StateChanged.
func TransitionOf(epoch, seq int64, from, to string, at time.Time, reason string) Transition {
	return Transition{Epoch: epoch, Seq: seq, From: from, To: to, At: at.UnixMilli(), Reason: reason}
}

// How an alert ended (Alert.End).
const (
	EndSeq     = "seq"     // a transition back to UP
	EndEpoch   = "epoch"   // a newer epoch started (the coordinator lost its state)
	EndRemoved = "removed" // the target left the configuration
)

// AlertID is the id of the alert an opener starts: the id of that
// transition, "<type>/<name>:<epoch>:<seq>".
func AlertID(kind, name string, epoch, seq int64) string {
	return kind + "/" + name + ":" + strconv.FormatInt(epoch, 10) + ":" + strconv.FormatInt(seq, 10)
}

// Incidents derives the alerts of target kind/name from the transitions
// recorded for it (in any order; duplicates count once), oldest first:
//
//   - an incident opens at a transition from a good state (UP, UNKNOWN)
//     into a bad one (DOWN: critical, DEGRADED: warning); its alert id is
//     that transition's id;
//   - it runs over the following seqs of its epoch, as far as they are
//     contiguous, taking the severity and reason of the latest;
//   - the next transition into UP resolves it at that transition's time;
//   - an incident no transition resolved is resolved when a newer epoch
//     exists, at that epoch's start;
//   - otherwise it is firing.
//
// The initial UP opens nothing. Removal from the configuration is applied
// afterwards by ResolveRemoved.
func Incidents(kind, name string, log []Transition) []Alert {
	byEpoch := map[int64]map[int64]Transition{}
	for _, t := range log {
		m := byEpoch[t.Epoch]
		if m == nil {
			m = map[int64]Transition{}
			byEpoch[t.Epoch] = m
		}
		if _, dup := m[t.Seq]; !dup {
			m[t.Seq] = t
		}
	}
	epochs := make([]int64, 0, len(byEpoch))
	for e := range byEpoch {
		epochs = append(epochs, e)
	}
	slices.Sort(epochs)
	var out []Alert
	for i, e := range epochs {
		m := byEpoch[e]
		seqs := make([]int64, 0, len(m))
		for s := range m {
			seqs = append(seqs, s)
		}
		slices.Sort(seqs)
		for _, s := range seqs {
			o := m[s]
			if Bad(o.From) || !Bad(o.To) {
				continue // not an opener
			}
			a := Alert{ID: AlertID(kind, name, e, s), Type: kind, Name: name, State: AlertFiring,
				StartedAt: time.UnixMilli(o.At).UTC(), Epoch: e, Seq: s}
			for j := s; ; j++ {
				x, ok := m[j]
				if !ok {
					break
				}
				if !Bad(x.To) {
					at := time.UnixMilli(x.At).UTC()
					a.State, a.ResolvedAt, a.End = AlertResolved, &at, EndSeq
					break
				}
				a.Severity, a.Reason = Severity(x.To), x.Reason
			}
			if a.State == AlertFiring && i+1 < len(epochs) {
				at := time.UnixMilli(epochs[i+1]).UTC()
				a.State, a.ResolvedAt, a.End = AlertResolved, &at, EndEpoch
			}
			out = append(out, a)
		}
	}
	return out
}

// ResolveRemoved resolves, at now, every firing alert of a target that
// left the configuration (End EndRemoved, reason "removed").
func ResolveRemoved(alerts []Alert, now time.Time) []Alert {
	out := slices.Clone(alerts)
	for i := range out {
		if out[i].State == AlertFiring {
			at := now.UTC()
			out[i].State, out[i].ResolvedAt, out[i].End, out[i].Reason = AlertResolved, &at, EndRemoved, EndRemoved
		}
	}
	return out
}

// SortAlerts orders alerts newest first by start (then by id, newest
// epoch and seq first), as the alerts endpoint lists them.
func SortAlerts(as []Alert) {
	slices.SortFunc(as, func(a, b Alert) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		if c := cmp.Compare(b.Epoch, a.Epoch); c != 0 {
			return c
		}
		return cmp.Compare(b.Seq, a.Seq)
	})
}
