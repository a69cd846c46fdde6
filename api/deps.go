package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
)

// Deps are the API's collaborators. Every field may be nil: the routes stay
// (the OpenAPI document describes them all) and answer 503 "not_configured"
// (or, for Readiness and SelfHealth, fall back to what Options knows).
type Deps struct {
	Status      StatusReader
	History     HistoryReader
	Alerts      AlertReader
	Metrics     MetricsReader
	Connections Connections
	Tester      Tester
	Config      ConfigView
	Registry    Registry
	Events      EventStream
	Readiness   Readiness
	Self        SelfHealth
}

// StatusReader reads the current-status read model. An error means the
// store could not be read (503), unless it wraps ErrNotFound or has a
// Field() string method (400).
type StatusReader interface {
	// Statuses returns every target's current status, in any order.
	Statuses(ctx context.Context) ([]projections.TargetStatus, error)
}

// StatusReaderFunc adapts a function to StatusReader.
type StatusReaderFunc func(ctx context.Context) ([]projections.TargetStatus, error)

// Statuses calls f.
func (f StatusReaderFunc) Statuses(ctx context.Context) ([]projections.TargetStatus, error) {
	return f(ctx)
}

// HistoryReader reads the history read model. An error with a Field()
// string method (e.g. a malformed cursor: Field() == "cursor") is a 400;
// any other error means the store could not be read (503).
type HistoryReader interface {
	// History returns one page of checks of q.Type, newest first. The API
	// validates q before the call: Type is a known kind, Limit is 1..1000,
	// Since <= Until when both are set.
	History(ctx context.Context, q projections.HistoryQuery) (projections.HistoryPage, error)
}

// HistoryReaderFunc adapts a function to HistoryReader.
type HistoryReaderFunc func(ctx context.Context, q projections.HistoryQuery) (projections.HistoryPage, error)

// History calls f.
func (f HistoryReaderFunc) History(ctx context.Context, q projections.HistoryQuery) (projections.HistoryPage, error) {
	return f(ctx, q)
}

// AlertReader reads the alerts read model. Errors as for StatusReader.
type AlertReader interface {
	// Alerts returns alerts newest first; q.State is "firing", "resolved"
	// or "all", q.Limit is 1..1000.
	Alerts(ctx context.Context, q projections.AlertQuery) ([]projections.Alert, error)
}

// AlertReaderFunc adapts a function to AlertReader.
type AlertReaderFunc func(ctx context.Context, q projections.AlertQuery) ([]projections.Alert, error)

// Alerts calls f.
func (f AlertReaderFunc) Alerts(ctx context.Context, q projections.AlertQuery) ([]projections.Alert, error) {
	return f(ctx, q)
}

// MetricsReader reads the metrics rollups. Errors as for StatusReader.
type MetricsReader interface {
	// Metrics returns the rolled-up metrics of every target.
	Metrics(ctx context.Context) ([]projections.TargetMetrics, error)
}

// MetricsReaderFunc adapts a function to MetricsReader.
type MetricsReaderFunc func(ctx context.Context) ([]projections.TargetMetrics, error)

// Metrics calls f.
func (f MetricsReaderFunc) Metrics(ctx context.Context) ([]projections.TargetMetrics, error) {
	return f(ctx)
}

// Connections lists this replica's clients (probes.Manager has this method).
type Connections interface {
	// Connections describes every target's client; it never holds a password.
	Connections() []probes.ConnInfo
}

// ConnectionsFunc adapts a function to Connections.
type ConnectionsFunc func() []probes.ConnInfo

// Connections calls f.
func (f ConnectionsFunc) Connections() []probes.ConnInfo { return f() }

// TestResult is the outcome of one on-demand probe.
type TestResult struct {
	Type      string          `json:"type"`
	Name      string          `json:"name"`
	State     string          `json:"state"`
	LatencyMS float64         `json:"latency_ms"`
	Details   json.RawMessage `json:"details"`
	ErrorKind string          `json:"error_kind"`
	// Error is the failure message, already scrubbed of credentials.
	Error     string    `json:"error"`
	CheckedAt time.Time `json:"checked_at"`
}

// Tester probes targets now, on request, and feeds the results through the
// pipeline like any scheduled probe.
type Tester interface {
	// Test probes every target of kind, or only the one called name when
	// name is not empty. An unknown name is an error wrapping ErrNotFound
	// (or probes.ErrUnknownTarget): 404. A kind without targets gives an
	// empty slice and no error.
	Test(ctx context.Context, kind probes.Kind, name string) ([]TestResult, error)
}

// TesterFunc adapts a function to Tester.
type TesterFunc func(ctx context.Context, kind probes.Kind, name string) ([]TestResult, error)

// Test calls f.
func (f TesterFunc) Test(ctx context.Context, kind probes.Kind, name string) ([]TestResult, error) {
	return f(ctx, kind, name)
}

// ConfigInfo is the effective configuration as GET /api/database/config
// shows it.
type ConfigInfo struct {
	// AppEnv is APP_ENV.
	AppEnv string `json:"app_env"`
	// Version identifies the configuration in force; it changes with every
	// applied live update.
	Version string `json:"version"`
	// Source is where the configuration in force came from (e.g. "env",
	// "file:/etc/targets.yaml", "nacos:targets.yaml").
	Source string `json:"source"`
	// AppliedAt is when it was applied.
	AppliedAt time.Time `json:"applied_at"`
	// Config is the redacted effective configuration (config.RedactedConfig:
	// every secret "******", with the source of each value). It is encoded
	// with encoding/json, so secret.String fields print the mask too.
	Config any `json:"config"`
}

// ConfigView shows the effective configuration.
type ConfigView interface {
	// Config returns the configuration in force, redacted.
	Config() ConfigInfo
}

// ConfigViewFunc adapts a function to ConfigView.
type ConfigViewFunc func() ConfigInfo

// Config calls f.
func (f ConfigViewFunc) Config() ConfigInfo { return f() }

// RegistryUpdate is the body of POST /api/database/registry/update; every
// field is optional.
type RegistryUpdate struct {
	Metadata map[string]string `json:"metadata,omitempty"`
	Weight   *float64          `json:"weight,omitempty"`
	Enabled  *bool             `json:"enabled,omitempty"`
}

// Registry is this replica's registration in Nacos.
type Registry interface {
	// Status describes the registration (encoded as JSON; see the
	// RegistryStatus schema in schemas/openapi.yaml for the field names).
	Status() any
	// Update validates and applies u and returns the new registration
	// (same shape as Status). A validation failure is an error with a
	// Field() string method naming the offending field ("metadata.<key>",
	// "weight", ...): 400.
	Update(ctx context.Context, u RegistryUpdate) (any, error)
}

// EventStream delivers live events to the SSE endpoint.
type EventStream interface {
	// Subscribe starts delivering events whose type is in types (all the
	// service's event types when types is empty) on the returned channel
	// until cancel is called or ctx is done. The implementation must not
	// block on a slow subscriber (drop instead) and should close the
	// channel after cancel.
	Subscribe(ctx context.Context, types []string) (ch <-chan events.Envelope, cancel func(), err error)
}

// EventStreamFunc adapts a function to EventStream.
type EventStreamFunc func(ctx context.Context, types []string) (<-chan events.Envelope, func(), error)

// Subscribe calls f.
func (f EventStreamFunc) Subscribe(ctx context.Context, types []string) (<-chan events.Envelope, func(), error) {
	return f(ctx, types)
}

// Readiness checks the service's own dependencies for GET /health.
type Readiness interface {
	// Ready checks each dependency ("bus", "store", ...) and returns nil
	// for a reachable one. It must honour ctx's deadline.
	Ready(ctx context.Context) map[string]error
}

// ReadinessFunc adapts a function to Readiness.
type ReadinessFunc func(ctx context.Context) map[string]error

// Ready calls f.
func (f ReadinessFunc) Ready(ctx context.Context) map[string]error { return f(ctx) }

// SelfInfo is this replica's own health, as GET /api/database/health shows
// it.
type SelfInfo struct {
	ReplicaID string    `json:"replica_id"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	// Roles are what this replica does (e.g. "api", "prober", "projector").
	Roles []string `json:"roles"`
}

// SelfHealth describes this replica.
type SelfHealth interface {
	// Self returns this replica's identity, start time and roles.
	Self() SelfInfo
}

// SelfHealthFunc adapts a function to SelfHealth.
type SelfHealthFunc func() SelfInfo

// Self calls f.
func (f SelfHealthFunc) Self() SelfInfo { return f() }
