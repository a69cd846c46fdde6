// Package eventtest builds event envelopes for tests.
package eventtest

import (
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
)

// Checked is the HealthChecked envelope of h from source; it fails t when
// h does not make one.
func Checked(t testing.TB, source string, h events.HealthChecked) events.Envelope {
	t.Helper()
	return must(t)(events.NewHealthChecked(source, h))
}

// Changed is the StateChanged envelope of s from source; it fails t when
// s does not make one.
func Changed(t testing.TB, source string, s events.StateChanged) events.Envelope {
	t.Helper()
	return must(t)(events.NewStateChanged(source, s))
}

// must returns what a constructor made, failing t on its error.
func must(t testing.TB) func(events.Envelope, error) events.Envelope {
	return func(e events.Envelope, err error) events.Envelope {
		t.Helper()
		if err != nil {
			t.Fatalf("eventtest: %v", err)
		}
		return e
	}
}

// Check is a HealthChecked of target kind/name in state at slot (Unix
// seconds, also its CheckedAt), by prober "r1": set the other fields on
// the result.
func Check(kind, name, state string, slot int64) events.HealthChecked {
	return events.HealthChecked{
		Target: events.TargetRef{Type: kind, Name: name}, State: state,
		CheckedAt: time.Unix(slot, 0).UTC(), Slot: slot, Prober: "r1",
	}
}

// Transition is the StateChanged of check from from to check.State, at
// check.CheckedAt, with seq in epoch 1: set the other fields on the result.
func Transition(check events.HealthChecked, from string, seq int64) events.StateChanged {
	return events.StateChanged{
		Target: check.Target, From: from, To: check.State, Seq: seq, Epoch: 1,
		At: check.CheckedAt, Check: check,
	}
}
