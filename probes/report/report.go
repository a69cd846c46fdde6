// Package report probes every target once and writes what it found, as a
// table or as JSON: the `database-service probe` command.
package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/dbhealth/database-service/probes"
)

// Result is the JSON form of one result.
type Result struct {
	Type      string          `json:"type"`
	Name      string          `json:"name"`
	Address   string          `json:"address"`
	State     string          `json:"state"`
	Reason    string          `json:"reason,omitempty"`
	LatencyMS float64         `json:"latency_ms"`
	Version   string          `json:"version,omitempty"`
	ErrorKind string          `json:"error_kind,omitempty"`
	Error     string          `json:"error,omitempty"`
	Details   json.RawMessage `json:"details,omitempty"`
	CheckedAt time.Time       `json:"checked_at"`
}

// Probe probes every target once, concurrently, with the drivers of
// openers, and returns the results sorted by target id.
func Probe(ctx context.Context, openers map[probes.Kind]probes.Opener, targets []probes.Target) []Result {
	m := probes.NewManager(openers, nil, nil)
	defer m.Close()
	m.SetTargets(targets)
	results := make([]probes.Result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Go(func() {
			r, err := m.Probe(ctx, t.ID())
			if err != nil {
				r = probes.Judge(t, nil, err, 0, time.Now())
			}
			results[i] = r
		})
	}
	wg.Wait()
	sort.Slice(results, func(i, j int) bool { return results[i].Target.ID() < results[j].Target.ID() })
	out := make([]Result, len(results))
	for i, r := range results {
		out[i] = Result{
			Type: string(r.Target.Kind), Name: r.Target.Name, Address: r.Target.Addr(),
			State: string(r.State), Reason: r.Reason, LatencyMS: probes.LatencyMS(r.Latency),
			Version: versionOf(r.DetailsMap()), ErrorKind: string(r.ErrorKind), Error: r.Error,
			Details: r.Details, CheckedAt: r.CheckedAt.UTC(),
		}
	}
	return out
}

// AnyDown reports whether a result is DOWN.
func AnyDown(rs []Result) bool {
	for _, r := range rs {
		if r.State == string(probes.StateDown) {
			return true
		}
	}
	return false
}

// WriteJSON writes the results as an indented JSON array.
func WriteJSON(w io.Writer, rs []Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rs)
}

// WriteTable writes the results as an aligned table, one row each.
func WriteTable(w io.Writer, rs []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TYPE\tNAME\tADDRESS\tSTATE\tLATENCY\tVERSION\tERROR_KIND\tDETAIL")
	for _, r := range rs {
		detail := r.Error
		if detail == "" && r.State != string(probes.StateUp) {
			detail = r.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fms\t%s\t%s\t%s\n", r.Type, r.Name, r.Address, r.State,
			r.LatencyMS, dash(r.Version), dash(r.ErrorKind), truncate(detail, 120))
	}
	return tw.Flush()
}

// versionOf finds the server version among a probe's details.
func versionOf(d map[string]any) string {
	for _, k := range []string{"version", "server_version", "number"} {
		if s, ok := d[k].(string); ok && s != "" {
			return s
		}
	}
	return ""
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
