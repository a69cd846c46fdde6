package probes

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/servers"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// The helpers every probe test shares: open a client, probe, check the
// outcome, watch for losses. export_test.go lends them to the external
// tests (package probes_test).

// openForTest opens a client with open and closes it in t.Cleanup.
func openForTest(t *testing.T, open Opener, tg Target) Client {
	t.Helper()
	c, err := open(context.Background(), tg)
	if err != nil {
		t.Fatalf("open %s: %v", tg, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// requireNoLeak fails when any secret appears in the error, the reason or
// the JSON of the details of r.
func requireNoLeak(t *testing.T, r Result, secrets ...string) {
	t.Helper()
	details, err := json.Marshal(r.DetailsMap())
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		for field, v := range map[string]string{"Error": r.Error, "Reason": r.Reason, "Details": string(details)} {
			if strings.Contains(v, s) {
				t.Errorf("%s contains the password %q: %s", field, s, v)
			}
		}
	}
}

// requireState fails unless r has the state and error kind.
func requireState(t *testing.T, r Result, state State, kind ErrorKind) {
	t.Helper()
	if r.State != state || r.ErrorKind != kind {
		t.Fatalf("got %s/%q (reason %q, error %q), want %s/%q", r.State, r.ErrorKind, r.Reason, r.Error, state, kind)
	}
}

// requireTimeoutWithin probes a silent listener and checks the probe gives
// up as a timeout close to its own deadline.
func requireTimeoutWithin(t *testing.T, open Opener, tg Target) {
	t.Helper()
	s := servers.StartSilent(t)
	tg.Host, tg.Port, tg.Timeout = s.Host, s.Port, 300*time.Millisecond
	c := openForTest(t, open, tg)
	start := time.Now()
	r := RunProbe(context.Background(), tg, c)
	took := time.Since(start)
	requireState(t, r, StateDown, ErrKindTimeout)
	if took > 2*tg.Timeout {
		t.Fatalf("probe took %v, want about its %v timeout", took, tg.Timeout)
	}
	if s.Accepted() == 0 {
		t.Fatal("the probe never reached the silent listener")
	}
}

// watchForTest runs c's Watch until the test ends and counts losses on the
// returned channel.
func watchForTest(t *testing.T, c Client) <-chan string {
	t.Helper()
	w, ok := c.(Watcher)
	if !ok {
		t.Fatalf("%T does not implement Watcher", c)
	}
	lost := make(chan string, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Watch(ctx, func(reason string) { lost <- reason })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Watch did not return after its context was cancelled")
		}
	})
	return lost
}

// waitLost waits for one loss and returns how long it took since start.
func waitLost(t *testing.T, lost <-chan string, start time.Time) time.Duration {
	t.Helper()
	select {
	case reason := <-lost:
		took := time.Since(start)
		t.Logf("lost after %v: %s", took.Round(100*time.Microsecond), reason)
		return took
	case <-time.After(10 * time.Second):
		t.Fatal("lost was not called within 10s")
	}
	return 0
}

// requireNoConnectionOnOpen checks that open makes no connection before
// the first probe (clients are opened lazily).
func requireNoConnectionOnOpen(t *testing.T, open Opener, tg Target) {
	t.Helper()
	s := servers.StartSilent(t)
	tg.Host, tg.Port = s.Host, s.Port
	openForTest(t, open, tg)
	time.Sleep(50 * time.Millisecond)
	if n := s.Accepted(); n != 0 {
		t.Fatalf("%s: Open made %d connections, want none before the first probe", tg.Kind, n)
	}
}

// requireProbe probes tg once through c and fails unless the result has
// the state and error kind.
func requireProbe(t *testing.T, tg Target, c Client, state State, kind ErrorKind) Result {
	t.Helper()
	r := RunProbe(context.Background(), tg, c)
	requireState(t, r, state, kind)
	return r
}

// requireOpenProbe is requireProbe through a new client of tg opened with
// open (closed at the end of the test).
func requireOpenProbe(t *testing.T, open Opener, tg Target, state State, kind ErrorKind) Result {
	t.Helper()
	return requireProbe(t, tg, openForTest(t, open, tg), state, kind)
}

// requireUpFacts opens a client of tg, requires a first probe UP, takes
// the facts of a second and requires the first result's details to report
// their version and the client's stats to count both probes without an
// error. It returns the facts.
func requireUpFacts[F Facts](t *testing.T, open Opener, tg Target) F {
	t.Helper()
	c := openForTest(t, open, tg)
	r := requireProbe(t, tg, c, StateUp, ErrKindNone)
	f, err := c.Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if want := (Result{Details: detailsOf(f)}).DetailsMap()["version"]; r.DetailsMap()["version"] != want {
		t.Fatalf("details version = %v, want %q", r.DetailsMap()["version"], want)
	}
	if st := c.Stats(); st.Open < 1 || st.Acquires < 2 || st.Errors != 0 {
		t.Fatalf("stats after two probes = %+v", st)
	}
	t.Logf("details: %s", r.Details)
	return f.(F)
}

// requireAuthFailure probes tg once through a new client and requires
// DOWN/auth, none of secrets in the result and one error counted.
func requireAuthFailure(t *testing.T, open Opener, tg Target, secrets ...string) (Result, Client) {
	t.Helper()
	c := openForTest(t, open, tg)
	r := requireProbe(t, tg, c, StateDown, ErrKindAuth)
	requireNoLeak(t, r, secrets...)
	if n := c.Stats().Errors; n != 1 {
		t.Fatalf("errors = %d, want 1", n)
	}
	return r, c
}

// requireLossNoticed waits until ready says the watched connection is up,
// calls cut and requires the watcher to report the loss within 2s.
func requireLossNoticed(t *testing.T, round int, lost <-chan string, what string, ready func() bool, cut func()) {
	t.Helper()
	wait.Eventually(t, 10*time.Second, what, wait.Bool(ready))
	start := time.Now()
	cut()
	if took := waitLost(t, lost, start); took > 2*time.Second {
		t.Errorf("round %d: loss noticed after %v, want well under 2s", round, took)
	}
}

// requireWatchedRestarts opens a client of tg that probes UP and watches
// it. Twice it waits until ready says the watched connection is up (what
// names it), stops the server, requires the loss noticed within 2s and a
// probe refused, restarts the server and waits for it to probe UP. No
// other loss may be reported.
func requireWatchedRestarts(t *testing.T, open Opener, tg Target, what string, ready func(Client) bool, stop, restart func()) {
	t.Helper()
	c := openForTest(t, open, tg)
	requireProbe(t, tg, c, StateUp, ErrKindNone)
	lost := watchForTest(t, c)
	for round := 1; round <= 2; round++ {
		requireLossNoticed(t, round, lost, what, func() bool { return ready(c) }, stop)
		requireProbe(t, tg, c, StateDown, ErrKindRefused)
		restart()
		wait.Eventually(t, 10*time.Second, "the restarted server to probe UP", wait.Bool(func() bool {
			return RunProbe(context.Background(), tg, c).State == StateUp
		}))
	}
	requireNoMoreLosses(t, lost)
}

// requireNoMoreLosses fails when lost reports a loss within 300ms.
func requireNoMoreLosses(t *testing.T, lost <-chan string) {
	t.Helper()
	select {
	case reason := <-lost:
		t.Fatalf("lost called again without a loss: %s", reason)
	case <-time.After(300 * time.Millisecond):
	}
}

// HealthCase is one row of a table test of a Facts' Health rule.
type HealthCase struct {
	Name   string
	Facts  Facts
	Limits Limits
	Want   State
	Reason string // a substring of the reason; "" means no reason
}

// runHealthCases checks each case's verdict: its state, and a reason that
// contains Reason (none at all for UP).
func runHealthCases(t *testing.T, cases []HealthCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.Name, func(t *testing.T) {
			got, reason := tt.Facts.Health(tt.Limits.WithDefaults())
			if got != tt.Want || !strings.Contains(reason, tt.Reason) || (tt.Want == StateUp && reason != "") {
				t.Fatalf("Health = %s %q, want %s containing %q", got, reason, tt.Want, tt.Reason)
			}
		})
	}
}
