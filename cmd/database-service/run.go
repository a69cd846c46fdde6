package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/config/logging"
	"github.com/dbhealth/database-service/lifecycle"
	"github.com/dbhealth/database-service/projections/coord"
	"github.com/dbhealth/database-service/service"
)

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

// run is the whole program; environ nil means the process environment.
func run(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("database-service", flag.ContinueOnError)
	fs.SetOutput(stderr)
	checkConfig := fs.Bool("check-config", false, "validate the configuration, print it (secrets redacted) and exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: database-service [-check-config | -version]\n       database-service probe [-json]\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitConfig
	}
	if *showVersion {
		fmt.Fprintln(stdout, "database-service", version)
		return exitOK
	}
	cfg, err := config.Load(config.LoadOptions{Environ: environ})
	if err != nil {
		fmt.Fprintf(stderr, "configuration invalid:\n%v\n", err)
		return exitConfig
	}
	if *checkConfig {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(cfg.Redacted()); err != nil {
			fmt.Fprintln(stderr, err)
			return exitFail
		}
		for _, w := range cfg.Warnings() {
			fmt.Fprintln(stderr, "warning:", w)
		}
		return exitOK
	}
	switch rest := fs.Args(); {
	case len(rest) == 0 || rest[0] == "serve":
		return serve(ctx, cfg, stderr)
	case rest[0] == "probe":
		return probeOnce(ctx, cfg, rest[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "unknown command %q\n", rest[0])
		fs.Usage()
		return exitConfig
	}
}

// serve runs the service until ctx ends.
func serve(ctx context.Context, cfg *config.Config, stderr io.Writer) int {
	logOpts := cfg.LoggingOptions()
	logOpts.Console = stderr
	log, closer, err := logging.New(logOpts)
	if err != nil {
		fmt.Fprintln(stderr, "logging:", err)
		return exitConfig
	}
	defer closer.Close()
	coord.QuietRedisLogger(log)
	a, err := service.New(ctx, cfg, log, service.Options{Version: version})
	if err != nil {
		log.Error("start-up failed", "err", err)
		return exitFail
	}
	log.Info("database-service started", "version", version, "replica", cfg.Service.ReplicaID,
		"port", cfg.Service.Port, "bus_embedded", cfg.Bus.Embedded(), "store_embedded", cfg.Store.Embedded())
	// Stopping is bounded by SHUTDOWN_TIMEOUT: a step that does not stop
	// in time is abandoned and reported.
	if err := a.Run(ctx); err != nil {
		if errors.Is(err, lifecycle.ErrTimeout) {
			log.Error("shutdown timed out; exiting anyway", "timeout", cfg.Service.ShutdownTimeout, "err", err)
			return exitFail
		}
		log.Error("stopped with error", "err", err)
		return exitFail
	}
	log.Info("database-service stopped")
	return exitOK
}
