//go:build e2e

package e2e

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/apiclient"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// waitChain waits until the observer has transition number n (counting
// from 1) of target name and checks it goes to want; it returns it.
func (w *world) waitChain(name, want string) events.StateChanged {
	w.t.Helper()
	w.expect(name, want)
	n := len(w.expected[name])
	var got []events.StateChanged
	wait.Eventually(w.t, 3*w.s.interval+w.s.outage+60*time.Second, fmt.Sprintf("transition %d of %s (to %s)", n, name, want), func() (bool, string) {
		got = w.obs.chain(subject(name))
		return len(got) >= n, fmt.Sprintf("have %v", tos(got))
	})
	if got[n-1].To != want {
		w.t.Fatalf("transition %d of %s goes to %s, want %s (chain %v)", n, name, got[n-1].To, want, tos(got))
	}
	return got[n-1]
}

// expect appends a transition to what name's chain must be.
func (w *world) expect(name, to string) {
	if w.expected == nil {
		w.expected = map[string][]string{}
	}
	w.expected[name] = append(w.expected[name], to)
}

func tos(chain []events.StateChanged) []string {
	out := make([]string, len(chain))
	for i, s := range chain {
		out[i] = s.To
	}
	return out
}

// statusItem is one entry of GET /api/database/status.
type statusItem struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	State     string `json:"state"`
	Projected bool   `json:"projected"`
}

// apiState is what replica p's API says of target name ("" when it cannot tell).
func apiState(p *proc, name string) string {
	var st struct {
		Databases []statusItem `json:"databases"`
	}
	if code, err := httpGet(p.url+"/api/database/status", &st); code != 200 || err != nil {
		return ""
	}
	for _, d := range st.Databases {
		if d.Type == "redis" && d.Name == name {
			return d.State
		}
	}
	return ""
}

// apiWatch polls every replica's API from now on for the victim shown
// DOWN; stop returns how long after since the first replica showed it,
// and false if none did.
func (w *world) apiWatch(since time.Time) (stop func() (time.Duration, bool)) {
	procs := make([]*proc, 0, len(w.procs))
	for _, p := range w.procs {
		procs = append(procs, p)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first time.Time
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for _, p := range procs {
				if !p.Exited() && apiState(p, victim) == "DOWN" {
					mu.Lock()
					if first.IsZero() {
						first = time.Now()
					}
					mu.Unlock()
				}
			}
			select {
			case <-done:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() (time.Duration, bool) {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, p := range procs { // a last look, for a DOWN shown since the last poll
			if first.IsZero() && !p.Exited() && apiState(p, victim) == "DOWN" {
				first = time.Now()
			}
		}
		if first.IsZero() {
			return 0, false
		}
		return first.Sub(since), true
	}
}

// alert is one entry of GET /api/database/alerts.
type alert = apiclient.Alert

// key identifies an alert across replicas: its string, start and resolve times.
func key(a alert) string {
	resolved := "-"
	if a.ResolvedAt != nil {
		resolved = a.ResolvedAt.UTC().Format(time.RFC3339Nano)
	}
	return a.String() + " " + a.StartedAt.UTC().Format(time.RFC3339Nano) + " " + resolved
}

func keys(as []alert) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = key(a)
	}
	return out
}

// alertsOf is replica p's alerts, sorted by id.
func alertsOf(p *proc) ([]alert, error) {
	var res struct {
		Alerts []alert `json:"alerts"`
	}
	code, err := httpGet(p.url+"/api/database/alerts?state=all&limit=1000", &res)
	if err != nil || code != 200 {
		return nil, fmt.Errorf("alerts of %s: %d %v", p.ID, code, err)
	}
	sort.Slice(res.Alerts, func(i, j int) bool { return res.Alerts[i].ID < res.Alerts[j].ID })
	return res.Alerts, nil
}

// verify waits until the system is quiet (no new transition for two
// intervals, every replica ready) and checks the scenario's invariants:
// the chains are what was expected (exactly one DOWN and one UP per
// incident), the alerts are the same on every replica with each incident
// resolved, and no replica died.
func (w *world) verify(incidents int) {
	t := w.t
	t.Helper()
	quiet := 2*w.s.interval + 2*time.Second
	last, lastAt := -1, time.Now()
	wait.Eventually(t, 2*time.Minute, "the system to settle", func() (bool, string) {
		n, _, _ := w.obs.counts()
		if n != last {
			last, lastAt = n, time.Now()
		}
		return time.Since(lastAt) >= quiet, fmt.Sprintf("%d transitions", n)
	})
	for id, p := range w.procs {
		wait.Eventually(t, time.Minute, id+" ready", func() (bool, string) {
			if p.Exited() {
				t.Fatalf("%s died: %s", id, p.Cmd.ProcessState)
			}
			code, err := httpGet(p.url+"/ready", nil)
			return code == 200, fmt.Sprint(code, err)
		})
	}

	n, deliveries, bad := w.obs.counts()
	w.res.transitions, w.res.deliveries = n, deliveries
	if bad > 0 {
		t.Errorf("%d undecodable events on the observer's queue", bad)
	}
	for _, name := range []string{victim, steady} {
		got := tos(w.obs.chain(subject(name)))
		if !slices.Equal(got, w.expected[name]) {
			t.Errorf("transitions of %s: %v, want %v", name, got, w.expected[name])
		}
		if name == victim {
			for _, to := range got {
				switch to {
				case "DOWN":
					w.res.downs++
				case "UP":
					w.res.ups++
				}
			}
			w.res.ups-- // the initial one
		}
	}

	// The alerts read model is eventually consistent (a projection retries
	// with backoff after a store fault): wait until the first replica shows
	// each incident's alert resolved and nothing firing, then require the
	// same view from every replica.
	var first []alert
	var mine []alert
	ids := make([]string, 0, len(w.procs))
	for id := range w.procs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	wait.Eventually(t, time.Minute, "the alerts of "+ids[0], func() (bool, string) {
		as, err := alertsOf(w.procs[ids[0]])
		if err != nil {
			return false, err.Error()
		}
		first, mine = as, nil
		for _, a := range as {
			if a.State != "resolved" {
				return false, "still " + a.State + ": " + a.String()
			}
			if a.Type == "redis" && a.Name == victim {
				mine = append(mine, a)
			}
		}
		return len(mine) == incidents, fmt.Sprintf("%d alerts for %s, want %d: %v", len(mine), victim, incidents, as)
	})
	for _, a := range first {
		if a.Type != "redis" || a.Name != victim {
			t.Errorf("alert about a target that never failed: %s", a)
		}
	}
	for _, id := range ids[1:] {
		wait.Eventually(t, 30*time.Second, "the alerts of "+id, func() (bool, string) {
			as, err := alertsOf(w.procs[id])
			if err != nil {
				return false, err.Error()
			}
			return slices.Equal(keys(as), keys(first)), fmt.Sprintf("%v, %s has %v", as, ids[0], first)
		})
	}
	t.Logf("%d transitions, %d deliveries, alerts %s", n, deliveries, strings.Trim(fmt.Sprint(first), "[]"))
}
