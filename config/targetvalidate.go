package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/probes"
)

// namePattern is what a target name may look like: it appears in target
// ids, Redis keys, event ids and URLs.
var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

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
