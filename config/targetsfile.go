package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/probes"
)

// MaxTargetsFileSize bounds a targets document.
const MaxTargetsFileSize = 4 << 20

// targetsDoc is the TARGETS_FILE document:
//
//	defaults:            # optional, overrides PROBE_* / *_THRESHOLD for this file
//	  interval: 30s
//	  timeout: 5s
//	  failure_threshold: 3
//	  success_threshold: 2
//	  degraded: {conn_ratio: 0.9, memory_ratio: 0.9, replica_lag: 30s}
//	targets:
//	  - name: orders-replica
//	    type: postgres
//	    host: 10.0.0.12
//	    ...
type targetsDoc struct {
	Defaults *defaultsDoc `yaml:"defaults"`
	Targets  []targetDoc  `yaml:"targets"`
}

// defaultsDoc is the optional `defaults:` section.
type defaultsDoc struct {
	Interval         *time.Duration `yaml:"interval"`
	Timeout          *time.Duration `yaml:"timeout"`
	FailureThreshold *int           `yaml:"failure_threshold"`
	SuccessThreshold *int           `yaml:"success_threshold"`
	Degraded         *limitsDoc     `yaml:"degraded"`
}

// limitsDoc is a `degraded:` section; nil fields keep the default.
type limitsDoc struct {
	ConnRatio   *float64       `yaml:"conn_ratio"`
	MemoryRatio *float64       `yaml:"memory_ratio"`
	ReplicaLag  *time.Duration `yaml:"replica_lag"`
}

// targetDoc is one entry of `targets:`.
type targetDoc struct {
	Name          string         `yaml:"name"`
	Type          string         `yaml:"type"`
	Host          string         `yaml:"host"`
	Port          *int           `yaml:"port"`
	Hosts         []string       `yaml:"hosts"`
	Addresses     []string       `yaml:"addresses"`
	Username      string         `yaml:"username"`
	Password      string         `yaml:"password"`
	Database      string         `yaml:"database"`
	DB            *int           `yaml:"db"`
	VHost         string         `yaml:"vhost"`
	ManagementURL string         `yaml:"management_url"`
	Namespace     string         `yaml:"namespace"`
	Group         string         `yaml:"group"`
	TLS           *tlsDoc        `yaml:"tls"`
	Interval      *time.Duration `yaml:"interval"`
	Timeout       *time.Duration `yaml:"timeout"`
	FailureThresh *int           `yaml:"failure_threshold"`
	SuccessThresh *int           `yaml:"success_threshold"`
	Degraded      *limitsDoc     `yaml:"degraded"`
}

// namePattern is what a target name may look like: it appears in target
// ids, Redis keys, event ids and URLs.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ParseTargets parses a targets document (YAML, strict: unknown fields are
// rejected) into targets. Each target gets, field by field, its own value,
// else the document's `defaults:`, else d. Per kind, missing ports take the
// kind's usual port; postgres username and database default to "postgres";
// rabbitmq vhost to "/"; nacos namespace and group to "public" and
// "DEFAULT_GROUP". Elasticsearch takes `hosts` (or `addresses`) as http(s)
// URLs, or host/port; Nacos takes `addresses` (or `hosts`) as host:port, or
// host/port. A field that does not apply to the target's type is an error.
// `tls:` is a mapping (mode, ca_file, cert_file, key_file, server_name) or
// true (verify-full), false (disable) or a bare mode; an https:// URL
// without a mode means verify-full.
// Names must be unique per kind within the document. An empty document
// yields no targets.
//
// ParseTargets reads nothing but the TLS files the targets name (relative
// paths against the working directory), to report a bad one now; every
// target it returns passes ValidateTarget. All
// problems are reported at once (errors.Join); errors wrap ErrInvalid and
// never contain a password.
func ParseTargets(data []byte, d Defaults) ([]probes.Target, error) {
	if len(data) > MaxTargetsFileSize {
		return nil, fmt.Errorf("%w: targets document is larger than %d bytes", ErrInvalid, MaxTargetsFileSize)
	}
	var doc targetsDoc
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return nil, yamlError(err)
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: targets document must be a single YAML document", ErrInvalid)
	}

	if doc.Defaults != nil {
		var errs []error
		if d, errs = doc.Defaults.apply(d); len(errs) > 0 {
			return nil, joinErrs(errs)
		}
	}
	var errs []error
	seen := map[string]int{}
	var out []probes.Target
	for i, td := range doc.Targets {
		label := fmt.Sprintf("targets[%d]", i)
		if td.Name != "" && td.Type != "" {
			label = fmt.Sprintf("targets[%d] (%s/%s)", i, truncate(td.Type, 32), truncate(td.Name, 64))
		}
		t, terrs := td.target(d)
		for _, e := range terrs {
			errs = append(errs, fmt.Errorf("%w: %s: %s", ErrInvalid, label, e))
		}
		if len(terrs) > 0 {
			continue
		}
		if j, dup := seen[t.ID()]; dup {
			errs = append(errs, fmt.Errorf("%w: %s: name %q is already used by targets[%d]", ErrInvalid, label, t.Name, j))
			continue
		}
		seen[t.ID()] = i
		out = append(out, t)
	}
	if err := joinErrs(errs); err != nil {
		return nil, err
	}
	return out, nil
}

// yamlError turns a yaml.v3 error into one error per problem, speaking of
// the document rather than of Go types.
func yamlError(err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	r := strings.NewReplacer(
		"type config.targetsDoc", "the targets document",
		"type config.targetDoc", "a target",
		"type config.defaultsDoc", "defaults",
		"type config.limitsDoc", "degraded",
		"\n", " ",
	)
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = fmt.Errorf("%w: %s", ErrInvalid, r.Replace(strings.TrimSpace(m)))
	}
	return joinErrs(errs)
}

// apply overrides d with the document's defaults.
func (dd *defaultsDoc) apply(d Defaults) (Defaults, []error) {
	var errs []error
	if dd.Interval != nil {
		d.Interval = *dd.Interval
	}
	if dd.Timeout != nil {
		d.Timeout = *dd.Timeout
	}
	if dd.FailureThreshold != nil {
		d.FailureThreshold = *dd.FailureThreshold
	}
	if dd.SuccessThreshold != nil {
		d.SuccessThreshold = *dd.SuccessThreshold
	}
	if dd.Degraded != nil {
		errs = append(errs, dd.Degraded.check()...)
		d.Limits = dd.Degraded.apply(d.Limits)
	}
	if len(errs) > 0 {
		for i, e := range errs {
			errs[i] = fmt.Errorf("%w: defaults: %s", ErrInvalid, e)
		}
		return d, errs
	}
	for _, e := range checkSchedule(d.Interval, d.Timeout, d.FailureThreshold, d.SuccessThreshold, d.Limits.WithDefaults()) {
		errs = append(errs, fmt.Errorf("%w: defaults: %s", ErrInvalid, e))
	}
	return d, errs
}

// check rejects explicit limits out of range (a zero would otherwise
// silently mean "the default").
func (ld *limitsDoc) check() []error {
	var errs []error
	for _, r := range []struct {
		name string
		v    *float64
	}{{"degraded.conn_ratio", ld.ConnRatio}, {"degraded.memory_ratio", ld.MemoryRatio}} {
		if r.v != nil && !(*r.v > 0 && *r.v <= 1) {
			errs = append(errs, fmt.Errorf("%s: must be in (0,1], got %v", r.name, *r.v))
		}
	}
	if ld.ReplicaLag != nil && *ld.ReplicaLag <= 0 {
		errs = append(errs, fmt.Errorf("degraded.replica_lag: must be a duration > 0, got %s", *ld.ReplicaLag))
	}
	return errs
}

// apply overrides l with the section's values.
func (ld *limitsDoc) apply(l probes.Limits) probes.Limits {
	if ld.ConnRatio != nil {
		l.ConnRatio = *ld.ConnRatio
	}
	if ld.MemoryRatio != nil {
		l.MemoryRatio = *ld.MemoryRatio
	}
	if ld.ReplicaLag != nil {
		l.ReplicaLag = *ld.ReplicaLag
	}
	return l
}

// kindFields lists, per kind, the optional fields that apply to it (name,
// type and the schedule fields apply to all).
var kindFields = map[probes.Kind]map[string]bool{
	probes.Postgres:      set("host", "port", "username", "password", "database", "tls", "degraded.conn_ratio", "degraded.replica_lag"),
	probes.Elasticsearch: set("host", "port", "hosts", "username", "password", "tls"),
	probes.Milvus:        set("host", "port", "username", "password", "tls"),
	probes.Redis:         set("host", "port", "username", "password", "db", "tls", "degraded.conn_ratio", "degraded.memory_ratio"),
	probes.Nacos:         set("host", "port", "hosts", "username", "password", "namespace", "group", "tls"),
	probes.RabbitMQ:      set("host", "port", "username", "password", "vhost", "management_url", "tls"),
}

// set builds a set of strings.
func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// present lists the optional fields td sets.
func (td *targetDoc) present() []string {
	var out []string
	add := func(on bool, name string) {
		if on {
			out = append(out, name)
		}
	}
	add(td.Host != "", "host")
	add(td.Port != nil, "port")
	add(len(td.Hosts) > 0 || len(td.Addresses) > 0, "hosts")
	add(td.Username != "", "username")
	add(td.Password != "", "password")
	add(td.Database != "", "database")
	add(td.DB != nil, "db")
	add(td.VHost != "", "vhost")
	add(td.ManagementURL != "", "management_url")
	add(td.Namespace != "", "namespace")
	add(td.Group != "", "group")
	add(td.TLS != nil, "tls")
	if td.Degraded != nil {
		add(td.Degraded.ConnRatio != nil, "degraded.conn_ratio")
		add(td.Degraded.MemoryRatio != nil, "degraded.memory_ratio")
		add(td.Degraded.ReplicaLag != nil, "degraded.replica_lag")
	}
	return out
}

// target builds and validates the target td describes.
func (td *targetDoc) target(d Defaults) (probes.Target, []error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	kind := probes.Kind(td.Type)
	switch {
	case td.Type == "":
		bad("type: required, one of %s", kindList())
	case !kind.Valid():
		bad("type: must be one of %s, got %q", kindList(), truncate(td.Type, 32))
	}
	if td.Name == "" {
		bad("name: required")
	}
	if len(errs) > 0 {
		return probes.Target{}, errs
	}
	allowed := kindFields[kind]
	for _, f := range td.present() {
		if !allowed[f] {
			name := f
			if f == "hosts" {
				name = "hosts/addresses"
			}
			bad("%s: does not apply to type %s", name, kind)
		}
	}
	if len(td.Hosts) > 0 && len(td.Addresses) > 0 {
		bad("hosts and addresses: give only one of them")
	}
	if len(errs) > 0 {
		return probes.Target{}, errs
	}

	t := probes.Target{
		Kind: kind, Name: td.Name, Host: td.Host, Port: defaultPorts[kind],
		Username: td.Username, Password: secret.String(td.Password),
		Database: td.Database, VHost: td.VHost, ManagementURL: td.ManagementURL,
		Namespace: td.Namespace, Group: td.Group,
	}
	if td.Port != nil {
		t.Port = *td.Port
	}
	if td.DB != nil {
		t.DB = *td.DB
	}
	if td.TLS != nil {
		var terrs []error
		t.TLS, terrs = td.TLS.settings()
		errs = append(errs, terrs...)
	}
	d.apply(&t)
	if td.Interval != nil {
		t.Interval = *td.Interval
	}
	if td.Timeout != nil {
		t.Timeout = *td.Timeout
	}
	if td.FailureThresh != nil {
		t.FailureThreshold = *td.FailureThresh
	}
	if td.SuccessThresh != nil {
		t.SuccessThreshold = *td.SuccessThresh
	}
	if td.Degraded != nil {
		errs = append(errs, td.Degraded.check()...)
		t.Limits = td.Degraded.apply(t.Limits)
	}

	addrs := td.Hosts
	if len(addrs) == 0 {
		addrs = td.Addresses
	}
	switch kind {
	case probes.Postgres:
		t.Username = orDefault(t.Username, "postgres")
		t.Database = orDefault(t.Database, "postgres")
	case probes.RabbitMQ:
		t.VHost = orDefault(t.VHost, "/")
	case probes.Nacos:
		t.Namespace = orDefault(t.Namespace, "public")
		t.Group = orDefault(t.Group, "DEFAULT_GROUP")
		if len(addrs) > 0 && (td.Host != "" || td.Port != nil) {
			bad("host/port and addresses: give only one of them")
		}
		if len(addrs) == 0 && validHost(t.Host) {
			addrs = []string{net.JoinHostPort(t.Host, strconv.Itoa(t.Port))}
		}
		t.Addresses = make([]string, len(addrs))
		for i, a := range addrs {
			t.Addresses[i] = withDefaultPort(strings.TrimSpace(a), defaultPorts[probes.Nacos])
		}
		if len(t.Addresses) > 0 {
			t.Host, t.Port = splitHostPort(t.Addresses[0])
		}
	case probes.Elasticsearch:
		if len(addrs) > 0 && (td.Host != "" || td.Port != nil) {
			bad("host/port and hosts: give only one of them")
		}
		if len(addrs) == 0 && validHost(t.Host) {
			scheme := "http"
			if t.TLS.Enabled() {
				scheme = "https"
			}
			addrs = []string{scheme + "://" + net.JoinHostPort(t.Host, strconv.Itoa(t.Port))}
		}
		t.Addresses = make([]string, len(addrs))
		for i, a := range addrs {
			t.Addresses[i] = strings.TrimSpace(a)
		}
		if err := liftURLCredentials("hosts", "username", "password", t.Addresses, &t.Username, &t.Password); err != nil {
			errs = append(errs, err)
		}
		if len(t.Addresses) > 0 {
			t.Host, t.Port = urlHostPort(t.Addresses[0])
		}
		if err := checkESTLS(t.TLS.Mode, t.Addresses); err != nil {
			bad("tls: %s", err)
		}
		t.TLS = esTLS(t.TLS, t.Addresses)
	}
	if len(errs) > 0 {
		return probes.Target{}, errs
	}
	if err := ValidateTarget(t); err != nil {
		return probes.Target{}, unjoin(err)
	}
	return t, nil
}

// ValidateTarget reports everything wrong with a complete target (after
// defaults): kind, name, address, credentials' shape, schedule and limits.
// Messages name the field and never contain the password.
func ValidateTarget(t probes.Target) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if !t.Kind.Valid() {
		bad("type: must be one of %s, got %q", kindList(), truncate(string(t.Kind), 32))
	}
	if !namePattern.MatchString(t.Name) {
		bad("name: must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit, got %q", truncate(t.Name, 64))
	}
	switch t.Kind {
	case probes.Elasticsearch:
		if len(t.Addresses) == 0 {
			bad("hosts: required (http:// or https:// URLs), or host")
		}
		for _, a := range t.Addresses {
			if err := checkHTTPURL("hosts", a, "username and password"); err != nil {
				bad("%s", err)
			}
		}
	case probes.Nacos:
		if len(t.Addresses) == 0 {
			bad("addresses: required (host:port), or host")
		}
		for _, a := range t.Addresses {
			if !validHostPort(a) {
				bad("addresses: must be host:port, got %q", truncate(maskURLCredentials(a), 128))
			}
		}
	}
	if !validHost(t.Host) {
		bad("host: must be a host name or IP address without port, got %q", truncate(maskURLCredentials(t.Host), 64))
	}
	if t.Port < 1 || t.Port > 65535 {
		bad("port: must be 1-65535, got %d", t.Port)
	}
	if t.DB < 0 {
		bad("db: must be >= 0, got %d", t.DB)
	}
	if t.Kind == probes.RabbitMQ {
		if strings.TrimSpace(t.VHost) == "" {
			bad("vhost: must not be blank")
		}
		if t.ManagementURL != "" {
			if err := checkHTTPURL("management_url", t.ManagementURL, "username and password"); err != nil {
				bad("%s", err)
			}
		}
	}
	for _, e := range checkSchedule(t.Interval, t.Timeout, t.FailureThreshold, t.SuccessThreshold, t.Limits) {
		errs = append(errs, e)
	}
	for i, e := range errs {
		errs[i] = errors.New(secret.Scrub(e.Error(), t.Password))
	}
	return joinErrs(errs)
}

// checkSchedule validates a schedule, thresholds and limits.
func checkSchedule(interval, timeout time.Duration, fail, succ int, l probes.Limits) []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if interval <= 0 {
		bad("interval: must be a duration > 0, got %s", interval)
	} else if interval < MinProbeInterval {
		bad("interval: must be at least %s, got %s", MinProbeInterval, interval)
	}
	if timeout <= 0 {
		bad("timeout: must be a duration > 0, got %s", timeout)
	} else if interval > 0 && timeout >= interval {
		bad("timeout: must be less than interval (%s), got %s", interval, timeout)
	}
	if fail < 1 {
		bad("failure_threshold: must be >= 1, got %d", fail)
	}
	if succ < 1 {
		bad("success_threshold: must be >= 1, got %d", succ)
	}
	if !(l.ConnRatio > 0 && l.ConnRatio <= 1) {
		bad("degraded.conn_ratio: must be in (0,1], got %v", l.ConnRatio)
	}
	if !(l.MemoryRatio > 0 && l.MemoryRatio <= 1) {
		bad("degraded.memory_ratio: must be in (0,1], got %v", l.MemoryRatio)
	}
	if l.ReplicaLag <= 0 {
		bad("degraded.replica_lag: must be a duration > 0, got %s", l.ReplicaLag)
	}
	return errs
}

// kindList is the valid types, for messages.
func kindList() string {
	s := make([]string, len(probes.Kinds))
	for i, k := range probes.Kinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// orDefault returns v, or def when v is empty.
func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// joinErrs is errors.Join that returns nil for an empty list.
func joinErrs(errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// unjoin splits an errors.Join result back into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// loadTargetsFile reads TARGETS_FILE into c.loaded.fileTargets.
func (c *Config) loadTargetsFile() []error {
	path := c.Probe.TargetsFile
	wrap := func(err error) []error {
		var out []error
		for _, e := range unjoin(err) {
			msg := strings.TrimPrefix(e.Error(), ErrInvalid.Error()+": ")
			out = append(out, &FieldError{Var: "TARGETS_FILE", Msg: truncate(path, 256) + ": " + msg})
		}
		return out
	}
	info, err := os.Stat(path)
	if err == nil && info.Size() > MaxTargetsFileSize {
		return wrap(fmt.Errorf("larger than %d bytes", MaxTargetsFileSize))
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return wrap(fmt.Errorf("cannot read: %w", unwrapPath(err)))
	}
	extra, err := ParseTargets(data, c.Defaults())
	if err == nil {
		err = c.checkClashes(extra)
	}
	if err != nil {
		return wrap(err)
	}
	c.loaded.fileTargets = extra
	for _, t := range extra {
		c.loaded.sources["targets/"+t.ID()] = SourceTargetsFile
	}
	return nil
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
