// Package wait polls a condition in tests until it holds or a time limit
// passes: the one polling helper of every package's tests.
package wait

import (
	"testing"
	"time"
)

// Eventually calls cond until it reports true, and fails t when limit
// passes first, naming what was awaited and the last state cond described.
// It polls every 2ms at first, backing off to every 50ms.
func Eventually(t testing.TB, limit time.Duration, what string, cond func() (ok bool, last string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	pause := 2 * time.Millisecond
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			if last != "" {
				t.Fatalf("timed out after %v waiting for %s; last seen: %s", limit, what, last)
			}
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// Bool adapts a condition that has no state to describe to Eventually.
func Bool(cond func() bool) func() (bool, string) {
	return func() (bool, string) { return cond(), "" }
}
