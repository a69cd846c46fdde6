package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/probes"
)

// probeResult is the JSON form of one result of `database-service probe -json`.
type probeResult struct {
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

// probeOnce probes every enabled target once, prints a table (or JSON) and
// returns 0 when none is DOWN.
func probeOnce(ctx context.Context, cfg *config.Config, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	if err := fs.Parse(args); err != nil {
		return exitConfig
	}
	targets := cfg.Targets()
	if len(targets) == 0 {
		fmt.Fprintln(stderr, "no targets enabled")
		return exitFail
	}
	m := probes.NewManager(probes.Openers(), nil, nil)
	defer m.Close()
	m.SetTargets(targets)
	results := make([]probes.Result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := m.Probe(ctx, t.ID())
			if err != nil {
				r = probes.Judge(t, nil, err, 0, time.Now())
			}
			results[i] = r
		}()
	}
	wg.Wait()
	sort.Slice(results, func(i, j int) bool { return results[i].Target.ID() < results[j].Target.ID() })
	out := make([]probeResult, len(results))
	down := false
	for i, r := range results {
		out[i] = probeResult{
			Type: string(r.Target.Kind), Name: r.Target.Name, Address: r.Target.Addr(),
			State: string(r.State), Reason: r.Reason, LatencyMS: probes.LatencyMS(r.Latency),
			Version: versionOf(r.DetailsMap()), ErrorKind: string(r.ErrorKind), Error: r.Error,
			Details: r.Details, CheckedAt: r.CheckedAt.UTC(),
		}
		if r.State == probes.StateDown {
			down = true
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
	} else {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "TYPE\tNAME\tADDRESS\tSTATE\tLATENCY\tVERSION\tERROR_KIND\tDETAIL")
		for _, r := range out {
			detail := r.Error
			if detail == "" && r.State != string(probes.StateUp) {
				detail = r.Reason
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.1fms\t%s\t%s\t%s\n", r.Type, r.Name, r.Address, r.State,
				r.LatencyMS, dash(r.Version), dash(r.ErrorKind), truncate(detail, 120))
		}
		_ = tw.Flush()
	}
	if down {
		return exitFail
	}
	return exitOK
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
