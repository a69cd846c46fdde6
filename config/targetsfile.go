package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

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
	Defaults *scheduleDoc `yaml:"defaults"`
	Targets  []targetDoc  `yaml:"targets"`
	// Receivers and Maintenance are read by ParseAlerting.
	Receivers   yaml.Node `yaml:"receivers"`
	Maintenance yaml.Node `yaml:"maintenance"`
}

// scheduleDoc is the optional `defaults:` section, and the same keys of a
// target; nil fields keep what is inherited.
type scheduleDoc struct {
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
	Name          string   `yaml:"name"`
	Type          string   `yaml:"type"`
	Host          string   `yaml:"host"`
	Port          *int     `yaml:"port"`
	Hosts         []string `yaml:"hosts"`
	Addresses     []string `yaml:"addresses"`
	Username      string   `yaml:"username"`
	Password      string   `yaml:"password"`
	Database      string   `yaml:"database"`
	DB            *int     `yaml:"db"`
	VHost         string   `yaml:"vhost"`
	ManagementURL string   `yaml:"management_url"`
	Namespace     string   `yaml:"namespace"`
	Group         string   `yaml:"group"`
	TLS           *tlsDoc  `yaml:"tls"`
	scheduleDoc   `yaml:",inline"`
}

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
		if d, errs = doc.Defaults.applyDefaults(d); len(errs) > 0 {
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
		"type config.scheduleDoc", "defaults",
		"type config.limitsDoc", "degraded",
		"\n", " ",
	)
	errs := make([]error, len(msgs))
	for i, m := range msgs {
		errs[i] = fmt.Errorf("%w: %s", ErrInvalid, r.Replace(strings.TrimSpace(m)))
	}
	return joinErrs(errs)
}

// applyDefaults overrides d with the document's defaults and checks the
// result.
func (dd *scheduleDoc) applyDefaults(d Defaults) (Defaults, []error) {
	d, errs := dd.apply(d)
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

// apply overrides d with the section's values; the errors are those of
// its degraded limits.
func (dd *scheduleDoc) apply(d Defaults) (Defaults, []error) {
	var errs []error
	override(&d.Interval, dd.Interval)
	override(&d.Timeout, dd.Timeout)
	override(&d.FailureThreshold, dd.FailureThreshold)
	override(&d.SuccessThreshold, dd.SuccessThreshold)
	if dd.Degraded != nil {
		errs = append(errs, dd.Degraded.check()...)
		d.Limits = dd.Degraded.apply(d.Limits)
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
	override(&l.ConnRatio, ld.ConnRatio)
	override(&l.MemoryRatio, ld.MemoryRatio)
	override(&l.ReplicaLag, ld.ReplicaLag)
	return l
}

// override sets *dst to *v when the document gave v.
func override[T any](dst, v *T) {
	if v != nil {
		*dst = *v
	}
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
	var al Alerting
	if err == nil {
		al, err = ParseAlerting(data)
	}
	if err == nil {
		_, err = c.MergeAlerting(TargetSet{Source: SourceTargetsFile, Alerting: al})
	}
	if err != nil {
		return wrap(err)
	}
	c.loaded.fileTargets, c.loaded.fileAlerting = extra, al
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
