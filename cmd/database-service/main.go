// Command database-service watches infrastructure databases (PostgreSQL,
// Elasticsearch, Milvus, Redis, Nacos, RabbitMQ), publishes their health as
// events and serves it over a REST API.
//
// Usage:
//
//	database-service                 serve (probe, publish, project, API)
//	database-service probe [-json]   probe every enabled target once
//	database-service -check-config   validate and print the effective config
//	database-service -version        print the version
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], nil, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
