package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/notify/mute"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/registry"
)

// Deps are the API's collaborators. Every field may be nil: the routes stay
// (the OpenAPI document describes them all) and answer 503 "not_configured"
// (or, for Ready and Self, fall back to what Options knows).
type Deps struct {
	Status      StatusReader
	ReadModels  ReadModels
	Connections Connections
	Tester      Tester
	Registry    Registry
	Events      EventStream
	// Alert delivery: silences, maintenance windows, acknowledgements,
	// the marks on alerts, the notification log and the receivers.
	Silences      Silences
	Maintenance   Maintenance
	Acks          Acks
	Marks         AlertMarks
	Notifications Notifications
	Receivers     Receivers
	// Config is the configuration in force, redacted
	// (GET /api/database/config).
	Config func() ConfigInfo
	// Ready checks each dependency ("bus", "store", ...) and returns nil
	// for a reachable one; it must honour ctx's deadline (GET /health,
	// GET /ready).
	Ready func(ctx context.Context) map[string]error
	// Self is this replica's identity, start time and roles
	// (GET /api/database/health).
	Self func() SelfInfo
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

// ReadModels reads the history, alerts and metrics read models (either
// store's read models have these methods). An error with a Field() string
// method (e.g. a malformed cursor) is a 400; any other error means the
// store could not be read (503).
type ReadModels interface {
	// History returns one page of checks of q.Type, newest first. The API
	// validates q before the call: Type is a known kind, Limit is 1..1000,
	// Since <= Until when both are set.
	History(ctx context.Context, q projections.HistoryQuery) (projections.HistoryPage, error)
	// Alerts returns alerts newest first; q.State is "firing", "resolved"
	// or "all", q.Limit is 1..1000.
	Alerts(ctx context.Context, q projections.AlertQuery) ([]projections.Alert, error)
	// AllMetrics returns the rolled-up metrics of every target.
	AllMetrics(ctx context.Context) ([]projections.TargetMetrics, error)
}

// AlertMarks says why an alert is not notified (a *mute.Muter).
type AlertMarks interface {
	Marks(ctx context.Context, s mute.Subject) (mute.Marks, error)
}

// Connection describes one target's long-lived client, as
// GET /api/database/connections shows it. It never holds a password.
//
// Fields are in reading order: which target, whether it is connected and
// watched, where to (the user, never a password), and the pool.
type Connection struct {
	Type      events.Kind `json:"type"`
	Name      string      `json:"name"`
	Connected bool        `json:"connected"`
	Watching  bool        `json:"watching"`
	Host      string      `json:"host"`
	Port      int         `json:"port"`
	Addresses []string    `json:"addresses,omitempty"`
	User      string      `json:"user,omitempty"`
	Database  string      `json:"database,omitempty"`
	VHost     string      `json:"vhost,omitempty"`
	Pool      Pool        `json:"pool"`
}

// Pool is a client's connection pool.
type Pool struct {
	Open     int64 `json:"open"`
	Idle     int64 `json:"idle"`
	InUse    int64 `json:"in_use"`
	Acquires int64 `json:"acquires"`
	Errors   int64 `json:"errors"`
}

// Connections lists this replica's clients.
type Connections interface {
	// Connections describes every target's client.
	Connections() []Connection
}

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
	// name is not empty. An unknown name is an error wrapping ErrNotFound:
	// 404. A kind without targets gives an empty slice and no error.
	Test(ctx context.Context, kind events.Kind, name string) ([]TestResult, error)
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

// Registry is this replica's registration in Nacos (*registry.Registry).
type Registry interface {
	// Status describes the registration.
	Status() registry.Status
	// Update validates and applies u and returns the new registration. A
	// *registry.ValidationError is a 400 naming its field,
	// registry.ErrDisabled a 503 "not_configured", any other error a 503
	// "unavailable".
	Update(ctx context.Context, u registry.UpdateRequest) (registry.Status, error)
}

// EventStream delivers live events to the SSE endpoint (*Hub).
type EventStream interface {
	// Subscribe starts delivering events whose type is in types (all the
	// service's event types when types is empty) on the returned channel
	// until cancel is called or ctx is done. The implementation must not
	// block on a slow subscriber (drop instead) and should close the
	// channel after cancel.
	Subscribe(ctx context.Context, types []string) (ch <-chan events.Envelope, cancel func(), err error)
}

// SelfInfo is this replica's own health, as GET /api/database/health shows
// it.
type SelfInfo struct {
	ReplicaID string    `json:"replica_id"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	// Roles are what this replica does (e.g. "api", "prober", "projector").
	Roles []string `json:"roles"`
}
