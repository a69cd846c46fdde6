// Package registry registers this replica in Nacos as an ephemeral
// instance, keeps the registration alive across Nacos restarts and lost
// connections, discovers the other healthy replicas of the service, and
// watches a Nacos config entry for live configuration.
//
// It drives nacos-sdk-go/v2 (v2.3.2) with a few rules learned from its
// source:
//
//   - One SDK naming client for the registry's lifetime, over every
//     server, and one config client (built on first use, shared by
//     ReadConfig and WatchConfig, released by Close). A naming client
//     leaks a UDP listener and its goroutine (the HTTP push receiver,
//     never closed) and stays in the SDK's global client map, so building
//     one per session grew the process with every Nacos outage. The first
//     naming client is built only once a server's gRPC port accepts a
//     connection (against a dead server the SDK builds it anyway and then
//     connects only on its reconnect schedule, up to 5s apart).
//   - A session is one stretch of the client being connected
//     (ServerHealthy). When the SDK reports the connection lost, or two
//     heartbeats fail, the session ends; the next one waits for the SDK to
//     reconnect (it fails over between the servers, and redoes its
//     registrations and subscriptions) and registers again. Nothing is
//     sent while the client is disconnected.
//   - The SDK's reconnect races (RpcClient.currentConnection is written by
//     the reconnect and read by its event goroutine and by requests
//     unsynchronised), and so does its recovery from failed requests
//     (rpcClientStatus read plainly); both unfixed up to v2.3.5, and -race
//     reports them: tests that make the client reconnect or recover are
//     built with !race and run by `make test` without the race detector.
//   - RegisterInstance answers (false, nil) when the server refuses the
//     request (auth): that is ErrRejected here.
//   - Instances are registered Ephemeral (gRPC; otherwise the SDK switches
//     to its HTTP proxy and heartbeats), Healthy, Enable and with a weight
//     (the SDK defaults them to false/0, which hides the instance).
//   - The SDK's logs and caches go under Config.DataDir, never the working
//     directory.
package registry

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
)

// Defaults applied by New to zero Config fields.
const (
	DefaultNamespace         = "public"
	DefaultGroup             = "DEFAULT_GROUP"
	DefaultTimeout           = 3 * time.Second
	DefaultHeartbeatInterval = 5 * time.Second
	DefaultRetryMin          = 200 * time.Millisecond
	DefaultRetryMax          = 10 * time.Second
	DefaultConfigResync      = 30 * time.Second
)

// grpcPortOffset is the distance between a Nacos server's HTTP and gRPC
// ports.
const grpcPortOffset = 1000

// Config configures the registration of this replica.
type Config struct {
	// Enabled turns registration on (REGISTRY_ENABLED). A disabled
	// registry's Run only waits for its context; WatchConfig still works
	// when Servers are set.
	Enabled bool
	// Servers are the Nacos servers, "host:port" (HTTP port).
	Servers []string
	// Namespace and Group of the registration (defaults public and
	// DEFAULT_GROUP).
	Namespace string
	Group     string
	// ServiceName is the service this replica registers as.
	ServiceName string
	// Username and Password authenticate when the server has auth on.
	Username string
	Password secret.String
	// IP is the registered address; empty means the first non-loopback
	// address of the host.
	IP string
	// Port is the registered port (the HTTP API's).
	Port int
	// Version, ReplicaID and Roles are published as instance metadata
	// (reserved keys version, replica_id, roles) with started_at.
	Version   string
	ReplicaID string
	Roles     []string
	// DataDir holds the SDK's log and cache directories (under nacos/);
	// empty means os.TempDir()/database-service.
	DataDir string

	// Timeout bounds each request to Nacos (default 3s).
	Timeout time.Duration
	// HeartbeatInterval is how often a registered session checks its
	// connection with a naming round trip (default 5s), and how often a
	// refused registration is tried again.
	HeartbeatInterval time.Duration
	// RetryMin and RetryMax bound the backoff between sessions (defaults
	// 200ms and 10s).
	RetryMin, RetryMax time.Duration
	// ConfigResync is how often WatchConfig reads its entry again, in case
	// a push was lost (default 30s).
	ConfigResync time.Duration
}

// Connection states of Status.ConnectionState.
const (
	StateDisabled     = "disabled"
	StateConnecting   = "connecting"
	StateConnected    = "connected"
	StateDisconnected = "disconnected"
	StateStopped      = "stopped"
)

// Reserved metadata keys, set by the registry and never by Update.
const (
	MetaVersion   = "version"
	MetaReplicaID = "replica_id"
	MetaRoles     = "roles"
	MetaStartedAt = "started_at"
)

var reservedKeys = []string{MetaVersion, MetaReplicaID, MetaRoles, MetaStartedAt}

// Errors of the registry.
var (
	// ErrDisabled is returned by Update when registration is off.
	ErrDisabled = errors.New("registry: registration is disabled")
	// ErrRejected means Nacos answered a registration with a failure and
	// no error: the credentials or the user's permissions are refused.
	ErrRejected = errors.New("registry: nacos rejected the registration (check NACOS_USERNAME, NACOS_PASSWORD and the user's permissions)")
)

// Status is the registration as seen now.
type Status struct {
	Enabled    bool   `json:"enabled"`
	Registered bool   `json:"registered"`
	InstanceID string `json:"instance_id,omitempty"`
	// Server is the Nacos server being tried while no client is built yet,
	// then the servers of the client ("host:port,..."; the SDK picks one
	// and fails over between them).
	Server          string `json:"server,omitempty"`
	ConnectionState string `json:"connection_state"`
	// LastRegisteredAt is the last successful registration; LastHeartbeatAt
	// the last successful round trip on the registered connection.
	LastRegisteredAt *time.Time `json:"last_registered_at,omitempty"`
	LastHeartbeatAt  *time.Time `json:"last_heartbeat_at,omitempty"`
	// LastError is the last failure, cleared by a successful registration.
	LastError   string  `json:"last_error,omitempty"`
	ServiceName string  `json:"service_name,omitempty"`
	Namespace   string  `json:"namespace,omitempty"`
	Group       string  `json:"group,omitempty"`
	IP          string  `json:"ip,omitempty"`
	Port        int     `json:"port,omitempty"`
	Weight      float64 `json:"weight"`
	// InstanceEnabled is the instance's enabled flag in Nacos (traffic on
	// or off), not Enabled above.
	InstanceEnabled bool              `json:"instance_enabled"`
	Metadata        map[string]string `json:"metadata"`
	// Peers are the other healthy, enabled instances of the service, as
	// last pushed by Nacos (kept while Nacos is unreachable).
	Peers []Peer `json:"peers"`
}

// Peer is another instance of the service.
type Peer struct {
	IP       string            `json:"ip"`
	Port     int               `json:"port"`
	Metadata map[string]string `json:"metadata"`
}

// Registry registers this replica in Nacos. Create it with New, run it with
// Run; Status, Update and WatchConfig are safe for concurrent use.
type Registry struct {
	cfg        Config
	logger     *slog.Logger
	ip         string
	startedAt  time.Time
	instanceID string
	sdkDir     string

	sdk sdkConstructors
	// sdkMu guards the config client, built once and kept until Close.
	sdkMu  sync.Mutex
	config config_client.IConfigClient
	closed bool

	// regSem serialises the registration calls (sessions and Update), so
	// the last one sent carries the latest desired state.
	regSem chan struct{}
	// drift is signalled when Nacos shows another copy of this instance.
	drift chan struct{}

	mu sync.Mutex
	// desired instance settings, kept across sessions
	custom  map[string]string
	weight  float64
	enabled bool
	// observed state
	state      string
	server     string
	registered bool
	lastReg    time.Time
	lastBeat   time.Time
	lastErr    string
	peers      []Peer
	client     naming_client.INamingClient
	gen        int
	// driftStreak counts the pushes in a row that showed a drift.
	driftStreak int
}

// New validates cfg, applies its defaults and returns a registry. Nothing
// is sent to Nacos before Run.
func New(cfg Config, logger *slog.Logger) (*Registry, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = withDefaults(cfg)
	if err := validateConfig(cfg); err != nil {
		return nil, err
	}
	warmLocalIP()
	r := &Registry{
		cfg:       cfg,
		logger:    logger.With("component", "registry"),
		startedAt: time.Now().UTC(),
		sdkDir:    filepath.Join(cfg.DataDir, "nacos"),
		sdk:       defaultSDK(),
		regSem:    make(chan struct{}, 1),
		drift:     make(chan struct{}, 1),
		custom:    map[string]string{},
		weight:    1,
		enabled:   true,
		state:     StateDisconnected,
	}
	if !cfg.Enabled {
		r.state = StateDisabled
		return r, nil
	}
	r.ip = cfg.IP
	if r.ip == "" {
		ip, err := firstNonLoopbackIP()
		if err != nil {
			return nil, err
		}
		r.ip = ip
	}
	r.instanceID = fmt.Sprintf("%s#%d#DEFAULT#%s@@%s", r.ip, cfg.Port, cfg.Group, cfg.ServiceName)
	return r, nil
}

// orDefault sets *v to d when *v is unset: zero or negative, or for a
// string empty.
func orDefault[T cmp.Ordered](v *T, d T) {
	var zero T
	if *v <= zero {
		*v = d
	}
}

func withDefaults(cfg Config) Config {
	orDefault(&cfg.Namespace, DefaultNamespace)
	orDefault(&cfg.Group, DefaultGroup)
	orDefault(&cfg.DataDir, filepath.Join(os.TempDir(), "database-service"))
	orDefault(&cfg.Timeout, DefaultTimeout)
	orDefault(&cfg.HeartbeatInterval, DefaultHeartbeatInterval)
	orDefault(&cfg.RetryMin, DefaultRetryMin)
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(DefaultRetryMax, cfg.RetryMin)
	}
	orDefault(&cfg.ConfigResync, DefaultConfigResync)
	cfg.Servers = slices.Clone(cfg.Servers)
	for i, s := range cfg.Servers {
		cfg.Servers[i] = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "http://"), "/")
	}
	return cfg
}

func validateConfig(cfg Config) error {
	for _, s := range cfg.Servers {
		host, p, err := net.SplitHostPort(s)
		port, perr := strconv.Atoi(p)
		if err != nil || host == "" || perr != nil || port <= 0 || port+grpcPortOffset > 65535 {
			return fmt.Errorf("registry: nacos server %q: need host:port with port 1-%d", s, 65535-grpcPortOffset)
		}
	}
	if !cfg.Enabled {
		return nil
	}
	switch {
	case len(cfg.Servers) == 0:
		return errors.New("registry: no nacos server")
	case cfg.ServiceName == "":
		return errors.New("registry: empty service name")
	case cfg.Port <= 0 || cfg.Port > 65535:
		return fmt.Errorf("registry: port must be 1-65535, got %d", cfg.Port)
	case cfg.IP != "" && net.ParseIP(cfg.IP) == nil:
		return fmt.Errorf("registry: IP %q is not an IP address", cfg.IP)
	}
	return nil
}

// firstNonLoopbackIP is the first IPv4 address of an up, non-loopback
// interface, else the first global IPv6 one.
func firstNonLoopbackIP() (string, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return "", fmt.Errorf("registry: list interfaces: %w", err)
	}
	var v6 string
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLoopback() || ipn.IP.IsLinkLocalUnicast() {
				continue
			}
			if ip4 := ipn.IP.To4(); ip4 != nil {
				return ip4.String(), nil
			}
			if v6 == "" && ipn.IP.IsGlobalUnicast() {
				v6 = ipn.IP.String()
			}
		}
	}
	if v6 != "" {
		return v6, nil
	}
	return "", errors.New("registry: no non-loopback address found; set the registered IP (SERVICE_IP)")
}

// metadataLocked is the instance metadata: the reserved keys over the
// custom ones.
func (r *Registry) metadataLocked() map[string]string {
	md := maps.Clone(r.custom)
	if md == nil {
		md = map[string]string{}
	}
	md[MetaVersion] = r.cfg.Version
	md[MetaReplicaID] = r.cfg.ReplicaID
	md[MetaRoles] = strings.Join(r.cfg.Roles, ",")
	md[MetaStartedAt] = r.startedAt.Format(time.RFC3339)
	return md
}

// Status returns the registration as seen now.
func (r *Registry) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := Status{
		Enabled:         r.cfg.Enabled,
		Registered:      r.registered,
		InstanceID:      r.instanceID,
		Server:          r.server,
		ConnectionState: r.state,
		LastError:       r.lastErr,
		ServiceName:     r.cfg.ServiceName,
		Namespace:       r.cfg.Namespace,
		Group:           r.cfg.Group,
		IP:              r.ip,
		Port:            r.cfg.Port,
		Weight:          r.weight,
		InstanceEnabled: r.enabled,
		Metadata:        r.metadataLocked(),
		Peers:           make([]Peer, 0, len(r.peers)),
	}
	if !r.lastReg.IsZero() {
		t := r.lastReg
		st.LastRegisteredAt = &t
	}
	if !r.lastBeat.IsZero() {
		t := r.lastBeat
		st.LastHeartbeatAt = &t
	}
	for _, p := range r.peers {
		st.Peers = append(st.Peers, Peer{IP: p.IP, Port: p.Port, Metadata: maps.Clone(p.Metadata)})
	}
	return st
}
