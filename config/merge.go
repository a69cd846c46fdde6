package config

import (
	"errors"
	"fmt"
	"reflect"

	"github.com/dbhealth/database-service/probes"
)

// ErrTargetConflict means two sources define the same target (kind/name)
// with different settings. Identical definitions are no conflict.
var ErrTargetConflict = errors.New("config: target defined differently by two sources")

// TargetSet is the targets of one source of live configuration (the
// TARGETS_FILE or the Nacos config entry) as its latest valid document
// defines them. Source names it in logs, errors and the configuration
// view ("file:/etc/targets.yaml", "nacos:dbsvc-targets").
type TargetSet struct {
	Source  string
	Targets []probes.Target
	// Alerting is the document's receivers.
	Alerting Alerting
}

// FileTargets returns the TARGETS_FILE targets read by Load, without the
// default targets. The slice is a fresh copy.
func (c *Config) FileTargets() []probes.Target {
	var out []probes.Target
	for _, t := range c.state().fileTargets {
		out = append(out, cloneTarget(t))
	}
	return out
}

// DocTargets parses a targets document (the TARGETS_FILE format, from the
// file or from Nacos) with c's Defaults and returns its own targets. It
// fails if the document is invalid or reuses the name of an enabled
// default target. c is not modified.
func (c *Config) DocTargets(data []byte) ([]probes.Target, error) {
	extra, err := ParseTargets(data, c.Defaults())
	if err != nil {
		return nil, err
	}
	if err := c.checkClashes(extra); err != nil {
		return nil, err
	}
	return extra, nil
}

// MergeTargets is the probed set: the default targets, then the targets
// of each set in order, merged by identity (kind/name). A target defined
// by several sets with identical settings appears once, where it first
// appears. A target defined by two sets (or by a set and the defaults)
// with different settings is an error wrapping ErrTargetConflict that
// names the target and both sources (never a setting, so no secret); every
// conflict is reported at once.
//
// sources maps each target id to where it is defined: "variables
// POSTGRES_*" for a default, else the sets' Source, joined with " and "
// when several define it identically.
func (c *Config) MergeTargets(sets ...TargetSet) (targets []probes.Target, sources map[string]string, err error) {
	sources = map[string]string{}
	index := map[string]int{}
	for _, t := range c.DefaultTargets() {
		index[t.ID()] = len(targets)
		sources[t.ID()] = defaultSource(t.Kind)
		targets = append(targets, t)
	}
	var errs []error
	for _, set := range sets {
		for _, t := range set.Targets {
			id := t.ID()
			i, dup := index[id]
			switch {
			case !dup:
				index[id] = len(targets)
				sources[id] = set.Source
				targets = append(targets, cloneTarget(t))
			case !reflect.DeepEqual(targets[i], t):
				errs = append(errs, fmt.Errorf("%w: %s is defined by %s and by %s with different settings; define it in one source only, or identically",
					ErrTargetConflict, id, sources[id], set.Source))
			case sources[id] != set.Source:
				sources[id] += " and " + set.Source
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return targets, sources, nil
}

// defaultSource is where a default target is defined, as the
// configuration view shows it.
func defaultSource(k probes.Kind) string { return "variables " + kindVarPrefix(k) + "_*" }
