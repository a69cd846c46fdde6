// Package api is the REST API of database-service: thin echo handlers over
// the read models (current status, history, alerts, metrics rollups), the
// connection tester, the effective configuration, the Nacos registry, the
// live event stream (Server-Sent Events), Prometheus /metrics and the
// OpenAPI documentation (/openapi.json, Swagger UI on /docs, ReDoc on
// /redoc, all assets embedded in the binary), SVG badges per target, and
// the routes of the status page, whose handler (package web) comes in
// through Options.UI.
//
// Every dependency is a small interface declared here, on the consumer side
// (see Deps); the wiring in cmd/ adapts the projections store, the probe
// manager, the bus and the registry to them. Errors are mapped to HTTP in
// exactly one place (the echo HTTPErrorHandler installed by New) and always
// have the shape {"error":{"code":"...","message":"..."}}.
//
// The package never imports watermill, the Redis store or probe internals:
// it uses only the plain types of projections, probes (Kind, ConnInfo) and
// events (Envelope).
package api
