package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"

	"gopkg.in/yaml.v3"

	"github.com/dbhealth/database-service/notify"
	"github.com/dbhealth/database-service/notify/mute"
)

// Alerting is the alert delivery part of a targets document: its
// `receivers:` section (see notify.Config) and its `maintenance:` windows
// (see mute.Window).
type Alerting struct {
	Receivers   []notify.ReceiverConfig
	Maintenance []mute.Window
}

// alertingDoc holds the sections of a targets document that ParseAlerting
// reads; ParseTargets reads the others.
type alertingDoc struct {
	Receivers   yaml.Node `yaml:"receivers"`
	Maintenance yaml.Node `yaml:"maintenance"`
}

// ParseAlerting parses the `receivers:` and `maintenance:` sections of a
// targets document,
// strictly (unknown fields are errors) and validates every receiver. A
// document without the section has no receivers. Errors wrap ErrInvalid
// and never contain a secret.
func ParseAlerting(data []byte) (Alerting, error) {
	var doc alertingDoc
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return Alerting{}, yamlError(err)
	}
	var out Alerting
	if doc.Maintenance.Kind != 0 {
		ws, err := mute.ParseWindowsYAML(&doc.Maintenance)
		if err != nil {
			return Alerting{}, fmt.Errorf("%w: %w", ErrInvalid, err)
		}
		out.Maintenance = ws
	}
	if doc.Receivers.Kind == 0 {
		return out, nil
	}
	// notify.ParseConfig decodes strictly, which yaml.Node.Decode cannot.
	section, err := yaml.Marshal(map[string]*yaml.Node{"receivers": &doc.Receivers})
	if err != nil {
		return Alerting{}, fmt.Errorf("%w: receivers: %v", ErrInvalid, err)
	}
	nc, err := notify.ParseConfig(section)
	if err != nil {
		return Alerting{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	out.Receivers = nc.Receivers
	return out, nil
}

// MergeAlerting is the delivery configuration in force: the receivers of
// the variables, then those of each set in order, merged by name. A
// receiver defined twice with different settings is an error wrapping
// ErrTargetConflict that names it and both sources (never a setting).
func (c *Config) MergeAlerting(sets ...TargetSet) (Alerting, error) {
	var out Alerting
	from := map[string]string{}
	index := map[string]int{}
	add := func(source string, rs []notify.ReceiverConfig) []error {
		var errs []error
		for _, r := range rs {
			i, dup := index[r.Name]
			switch {
			case !dup:
				index[r.Name], from[r.Name] = len(out.Receivers), source
				out.Receivers = append(out.Receivers, r)
			case !reflect.DeepEqual(out.Receivers[i], r):
				errs = append(errs, fmt.Errorf("%w: receiver %s is defined by %s and by %s with different settings; define it in one source only, or identically",
					ErrTargetConflict, r.Name, from[r.Name], source))
			}
		}
		return errs
	}
	errs := add("variables ALERT_*", c.Alerts.Delivery.EnvReceivers())
	windows := map[string]string{}
	for _, s := range sets {
		errs = append(errs, add(s.Source, s.Alerting.Receivers)...)
		for _, w := range s.Alerting.Maintenance {
			if src, dup := windows[w.Name]; dup {
				errs = append(errs, fmt.Errorf("%w: maintenance window %s is defined by %s and by %s", ErrTargetConflict, w.Name, src, s.Source))
				continue
			}
			windows[w.Name] = s.Source
			out.Maintenance = append(out.Maintenance, w)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Alerting{}, err
	}
	return out, nil
}

// FileAlerting is the delivery part of TARGETS_FILE as Load read it.
func (c *Config) FileAlerting() Alerting { return c.state().fileAlerting }
