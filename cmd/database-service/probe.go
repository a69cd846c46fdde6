package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/probes/report"
)

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
	out := report.Probe(ctx, probes.Openers(), targets)
	write := report.WriteTable
	if *asJSON {
		write = report.WriteJSON
	}
	_ = write(stdout, out)
	if report.AnyDown(out) {
		return exitFail
	}
	return exitOK
}
