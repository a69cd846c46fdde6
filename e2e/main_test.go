//go:build e2e

package e2e

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var binFlag = flag.String("bin", "", "the built binary (default ../bin/database-service)")

// result is what one scenario saw.
type result struct {
	name   string
	passed bool
	// transitions are the distinct StateChanged events the observer got,
	// deliveries all of them (a redelivered event id counts twice).
	transitions, deliveries int
	downs, ups              int
	// detect: target killed to the DOWN decision; recover: target back
	// to the UP decision; apiDown: target killed to an API showing it
	// DOWN while events could not be published (absent when not measured).
	detect, recover, apiDown []time.Duration
	notes                    []string
}

var (
	resultsMu sync.Mutex
	results   []*result
)

// record registers a scenario's result; its verdict is the test's at the end.
func record(t *testing.T, name string) *result {
	r := &result{name: name}
	resultsMu.Lock()
	results = append(results, r)
	resultsMu.Unlock()
	t.Cleanup(func() { r.passed = !t.Failed() })
	return r
}

func (r *result) note(format string, args ...any) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	summary(os.Stdout)
	os.Exit(code)
}

// summary prints one line per scenario and the totals.
func summary(w io.Writer) {
	resultsMu.Lock()
	defer resultsMu.Unlock()
	if len(results) == 0 {
		return
	}
	var passed, failed int
	var detect, recover, apiDown []time.Duration
	fmt.Fprintf(w, "\nchaos suite (PROBE_INTERVAL %s)\n", schedFromEnv().interval)
	for _, r := range results {
		verdict := "PASS"
		if r.passed {
			passed++
		} else {
			failed++
			verdict = "FAIL"
		}
		fmt.Fprintf(w, "%s %-28s transitions=%d redelivered=%d down=%d up=%d detect=%s recover=%s api_down=%s",
			verdict, r.name, r.transitions, r.deliveries-r.transitions, r.downs, r.ups, durs(r.detect), durs(r.recover), durs(r.apiDown))
		if len(r.notes) > 0 {
			fmt.Fprintf(w, " (%s)", strings.Join(r.notes, "; "))
		}
		fmt.Fprintln(w)
		detect = append(detect, r.detect...)
		recover = append(recover, r.recover...)
		apiDown = append(apiDown, r.apiDown...)
	}
	fmt.Fprintf(w, "detection p50=%s max=%s; recovery p50=%s max=%s; API DOWN during outage p50=%s max=%s\n",
		pct(detect, 50), pct(detect, 100), pct(recover, 50), pct(recover, 100), pct(apiDown, 50), pct(apiDown, 100))
	fmt.Fprintf(w, "%d passed, %d failed\n", passed, failed)
}

func durs(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = d.Round(10 * time.Millisecond).String()
	}
	return strings.Join(s, ",")
}

// pct is the p-th percentile (nearest rank) of ds, "-" when empty.
func pct(ds []time.Duration, p int) string {
	if len(ds) == 0 {
		return "-"
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s) + 99) / 100
	if i < 1 {
		i = 1
	}
	return s[i-1].Round(10 * time.Millisecond).String()
}
