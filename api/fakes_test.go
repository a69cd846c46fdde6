package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/registry"
)

// canaryPassword is configured everywhere a fake can hold a credential;
// no response body may ever contain it.
const canaryPassword = "Canary-pw-7f3a9c-DO-NOT-LEAK"

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fakes are in-memory stand-ins for every dependency of the API.
type fakes struct {
	clock *fakeClock

	mu        sync.Mutex
	statuses  []projections.TargetStatus
	statusErr error
	// statusGate, when set, blocks Statuses until it is closed.
	statusGate  chan struct{}
	statusCalls atomic.Int64

	history      projections.HistoryPage
	historyErr   error
	historyQuery projections.HistoryQuery

	alerts     []projections.Alert
	alertsErr  error
	alertQuery projections.AlertQuery

	metrics    []projections.TargetMetrics
	metricsErr error

	conns []api.Connection

	testErr   error
	testKind  events.Kind
	testName  string
	testPanic bool

	config api.ConfigInfo

	registry       registry.Status
	registryUpdate registry.UpdateRequest

	ready map[string]error

	stream *fakeStream
}

// fakeConfig is a configuration holding the canary password.
type fakeConfig struct {
	AppEnv   string            `json:"app_env"`
	Postgres fakePGConfig      `json:"postgres"`
	APIToken secret.String     `json:"api_token"`
	Sources  map[string]string `json:"sources"`
}

type fakePGConfig struct {
	Host     string        `json:"host"`
	User     string        `json:"user"`
	Password secret.String `json:"password"`
}

func ptr[T any](v T) *T { return &v }

func newFakes() *fakes {
	t0 := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	f := &fakes{clock: &fakeClock{now: t0}, stream: newFakeStream()}
	since := t0.Add(-time.Hour)
	checked := t0.Add(-10 * time.Second)
	f.statuses = []projections.TargetStatus{
		{Type: "redis", Name: "cache", State: "UP", Since: &since, CheckedAt: &checked, LatencyMS: 0.8,
			Details: rawJSON(map[string]any{"version": "7.0.15"}), Prober: "replica-a", Seq: 3, Slot: 99},
		{Type: "postgres", Name: "main", State: "DEGRADED", Since: &since, CheckedAt: &checked, LatencyMS: 3.5,
			Details: rawJSON(map[string]any{"connections": 90, "max_connections": 100}), Prober: "replica-b"},
		{Type: "postgres", Name: "analytics", State: "UP", Since: &since, CheckedAt: &checked, LatencyMS: 2.1},
		{Type: "elasticsearch", Name: "search", State: "DOWN", Since: &since, CheckedAt: &checked, LatencyMS: 5000,
			ErrorKind: "timeout", Error: "context deadline exceeded", Reason: "3 consecutive failures"},
		{Type: "milvus", Name: "vectors", State: "UNKNOWN"},
		{Type: "nacos", Name: "nacos", State: "UP", Since: &since, CheckedAt: &checked, LatencyMS: 1.2},
		{Type: "rabbitmq", Name: "bus", State: "UP", Since: &since, CheckedAt: &checked, LatencyMS: 1.9},
	}
	f.history = projections.HistoryPage{
		Items: []projections.HistoryItem{
			{Type: "postgres", Name: "main", State: "DEGRADED", CheckedAt: checked, LatencyMS: 3.5, Prober: "replica-b"},
			{Type: "postgres", Name: "main", State: "DOWN", CheckedAt: checked.Add(-30 * time.Second), LatencyMS: 5000,
				ErrorKind: "timeout", Error: "i/o timeout", Prober: "replica-a"},
		},
		Next: "cursor-2",
	}
	f.alerts = []projections.Alert{
		{ID: "a2", Type: "elasticsearch", Name: "search", Severity: "critical", State: "firing",
			Reason: "cluster red", StartedAt: checked},
		{ID: "a1", Type: "postgres", Name: "main", Severity: "warning", State: "resolved",
			Reason: "connections 95%", StartedAt: since, ResolvedAt: &checked},
	}
	f.metrics = []projections.TargetMetrics{
		{Type: "redis", Name: "cache", Uptime: map[string]*float64{"1h": ptr(1.0), "24h": ptr(0.99), "7d": nil},
			LatencyMS: projections.LatencyPercentiles{P50: 0.5, P95: 1.1, P99: 2.3}, ErrorRate: 0.01, Checks: 2880},
		{Type: "postgres", Name: "main", Uptime: map[string]*float64{"1h": ptr(0.5)},
			LatencyMS: projections.LatencyPercentiles{P50: 3, P95: 8, P99: 12}, ErrorRate: 0.2, Checks: 100},
	}
	f.conns = []api.Connection{
		{Type: events.KindRedis, Name: "cache", Host: "127.0.0.1", Port: 6379, Connected: true,
			Pool: api.Pool{Open: 2, Idle: 1, InUse: 1, Acquires: 40}},
		{Type: events.KindPostgres, Name: "main", Host: "db.local", Port: 5432, Database: "app", User: "svc", Connected: true, Watching: true},
		{Type: events.KindRabbitMQ, Name: "bus", Host: "mq", Port: 5672, VHost: "/", User: "guest"},
		{Type: events.KindElasticsearch, Name: "search", Host: "es1", Port: 9200, Addresses: []string{"http://es1:9200", "http://es2:9200"}},
	}
	f.config = api.ConfigInfo{
		AppEnv: "test", Version: "v7", Source: "file:/etc/targets.yaml", AppliedAt: t0.Add(-time.Minute),
		Config: fakeConfig{
			AppEnv:   "test",
			Postgres: fakePGConfig{Host: "db.local", User: "svc", Password: secret.String(canaryPassword)},
			APIToken: secret.String(canaryPassword),
			Sources:  map[string]string{"POSTGRES_PASSWORD": "env"},
		},
	}
	registered := t0
	f.registry = registry.Status{
		Enabled: true, Registered: true, InstanceID: "10.0.0.5#8089#DEFAULT#DEFAULT_GROUP@@database-service",
		ServiceName: "database-service", Group: "DEFAULT_GROUP", Namespace: "public", IP: "10.0.0.5", Port: 8089,
		Weight: 1.0, Server: "127.0.0.1:8848", ConnectionState: "connected", LastRegisteredAt: &registered,
		InstanceEnabled: true, Metadata: map[string]string{"version": "1.2.3"},
		Peers: []registry.Peer{{IP: "10.0.0.6", Port: 8089, Metadata: map[string]string{"version": "1.2.3"}}},
	}
	f.ready = map[string]error{"bus": nil, "store": nil}
	return f
}

// deps wires the fakes as API dependencies.
func (f *fakes) deps() api.Deps {
	return api.Deps{
		Status:      api.StatusReaderFunc(f.Statuses),
		ReadModels:  f,
		Connections: f,
		Tester:      f,
		Config:      f.Config,
		Registry:    f,
		Events:      f.stream,
		Ready:       f.Ready,
		Self: func() api.SelfInfo {
			return api.SelfInfo{ReplicaID: "replica-a", Version: "1.2.3", StartedAt: f.clock.Now().Add(-time.Hour),
				Roles: []string{"api", "prober", "projector"}}
		},
	}
}

func (f *fakes) Statuses(ctx context.Context) ([]projections.TargetStatus, error) {
	f.statusCalls.Add(1)
	f.mu.Lock()
	gate, out, err := f.statusGate, append([]projections.TargetStatus(nil), f.statuses...), f.statusErr
	f.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return out, err
}

func (f *fakes) setStatuses(ts []projections.TargetStatus, err error) {
	f.mu.Lock()
	f.statuses, f.statusErr = ts, err
	f.mu.Unlock()
}

func (f *fakes) History(_ context.Context, q projections.HistoryQuery) (projections.HistoryPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.historyQuery = q
	return f.history, f.historyErr
}

func (f *fakes) Alerts(_ context.Context, q projections.AlertQuery) ([]projections.Alert, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alertQuery = q
	return f.alerts, f.alertsErr
}

func (f *fakes) AllMetrics(context.Context) ([]projections.TargetMetrics, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]projections.TargetMetrics(nil), f.metrics...), f.metricsErr
}

func (f *fakes) Connections() []api.Connection { return f.conns }

func (f *fakes) Test(_ context.Context, kind events.Kind, name string) ([]api.TestResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.testKind, f.testName = kind, name
	if f.testPanic {
		panic("tester exploded")
	}
	if f.testErr != nil {
		return nil, f.testErr
	}
	var out []api.TestResult
	for _, s := range f.statuses {
		if s.Type != string(kind) || name != "" && s.Name != name {
			continue
		}
		out = append(out, api.TestResult{Type: s.Type, Name: s.Name, State: "UP", LatencyMS: 1.5,
			CheckedAt: f.clock.Now()})
	}
	if name != "" && len(out) == 0 {
		return nil, fmt.Errorf("target %s/%s: %w", kind, name, api.ErrNotFound)
	}
	return out, nil
}

func (f *fakes) Config() api.ConfigInfo { return f.config }

func (f *fakes) Status() registry.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.registry
}

func (f *fakes) Update(_ context.Context, u registry.UpdateRequest) (registry.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.registryUpdate = u
	if u.Weight != nil && (*u.Weight < 0 || *u.Weight > 1000) {
		return registry.Status{}, &registry.ValidationError{Field: "weight", Message: "must be between 0 and 1000"}
	}
	for k := range u.Metadata {
		if k == "version" {
			return registry.Status{}, &registry.ValidationError{Field: "metadata.version", Message: "is reserved"}
		}
	}
	out := f.registry
	if u.Metadata != nil {
		out.Metadata = u.Metadata
	}
	if u.Weight != nil {
		out.Weight = *u.Weight
	}
	return out, nil
}

func (f *fakes) Ready(context.Context) map[string]error {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]error{}
	for k, v := range f.ready {
		out[k] = v
	}
	return out
}

// fakeStream is an in-memory event broadcaster.
type fakeStream struct {
	mu     sync.Mutex
	subs   map[int]chan events.Envelope
	next   int
	types  [][]string
	failed error
}

func newFakeStream() *fakeStream { return &fakeStream{subs: map[int]chan events.Envelope{}} }

func (s *fakeStream) Subscribe(ctx context.Context, types []string) (<-chan events.Envelope, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return nil, nil, s.failed
	}
	id := s.next
	s.next++
	ch := make(chan events.Envelope, 16)
	s.subs[id] = ch
	s.types = append(s.types, types)
	var once sync.Once
	cancel := func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.subs, id)
			s.mu.Unlock()
			close(ch)
		})
	}
	return ch, cancel, nil
}

// active is the number of open subscriptions.
func (s *fakeStream) active() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.subs)
}

// publish sends env to every subscriber (without filtering: the API must).
func (s *fakeStream) publish(env events.Envelope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ch := range s.subs {
		ch <- env
	}
}

// errWithSecret is a dependency failure whose text holds the canary.
var errWithSecret = errors.New("dial redis://:" + canaryPassword + "@10.1.2.3:6379: connection refused")

// rawJSON encodes v as JSON details.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
