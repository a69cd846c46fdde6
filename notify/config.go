package notify

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"

	"gopkg.in/yaml.v3"
)

// ReceiverKind is the kind of a receiver.
type ReceiverKind string

// The receiver kinds.
const (
	KindWebhook      ReceiverKind = "webhook"
	KindAlertmanager ReceiverKind = "alertmanager"
	KindSlack        ReceiverKind = "slack"
	KindEmail        ReceiverKind = "email"
)

// ReceiverKinds lists every kind.
var ReceiverKinds = []ReceiverKind{KindWebhook, KindAlertmanager, KindSlack, KindEmail}

// Config is the `receivers:` section of the configuration.
type Config struct {
	Receivers []ReceiverConfig `yaml:"receivers" json:"receivers"`
}

// ReceiverConfig is one receiver: a unique name, a kind, the settings
// block named after the kind (and no other), and a route.
type ReceiverConfig struct {
	// Name identifies the receiver (notification ids, logs, the API);
	// letters, digits, '.', '_' and '-', at most 63.
	Name string       `yaml:"name" json:"name"`
	Kind ReceiverKind `yaml:"kind" json:"kind"`

	Webhook      *WebhookConfig      `yaml:"webhook,omitempty" json:"webhook,omitempty"`
	Alertmanager *AlertmanagerConfig `yaml:"alertmanager,omitempty" json:"alertmanager,omitempty"`
	Slack        *SlackConfig        `yaml:"slack,omitempty" json:"slack,omitempty"`
	Email        *EmailConfig        `yaml:"email,omitempty" json:"email,omitempty"`

	// Route selects the notifications it gets; the zero Route takes all.
	Route Route `yaml:"route,omitempty" json:"route,omitempty"`
}

// Receiver is a built receiver.
type Receiver struct {
	Name   string
	Kind   ReceiverKind
	Route  Route
	Sender Sender
	// Fingerprint identifies the endpoint (see GoneMark); empty in
	// receivers built by hand, which then never adopt a mark.
	Fingerprint string
}

var receiverName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// ParseConfig decodes a YAML document holding the `receivers:` section
// (and nothing else: unknown keys are errors) and validates it. An empty
// document is a Config without receivers.
func ParseConfig(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("notify: receivers: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks every receiver, building it to run its constructor's
// checks; each problem is reported as "receivers[i] (name): field: ...".
func (c *Config) Validate() error {
	_, err := c.Build(Deps{})
	return err
}

// Build validates c and constructs its receivers, in order.
func (c *Config) Build(deps Deps) ([]Receiver, error) {
	var (
		errs []error
		out  []Receiver
		seen = map[string]int{}
	)
	for i, rc := range c.Receivers {
		prefix := fmt.Sprintf("notify: receivers[%d]", i)
		if rc.Name != "" {
			prefix += " (" + rc.Name + ")"
		}
		var rerrs []error
		switch j, dup := seen[rc.Name]; {
		case rc.Name == "":
			rerrs = append(rerrs, errors.New("name: missing"))
		case !receiverName.MatchString(rc.Name):
			rerrs = append(rerrs, fmt.Errorf("name: %q: want letters, digits, '.', '_' or '-', at most 63", rc.Name))
		case dup:
			rerrs = append(rerrs, fmt.Errorf("name: duplicate of receivers[%d]", j))
		default:
			seen[rc.Name] = i
		}
		s, err := rc.build(deps)
		rerrs = append(rerrs, flatten(err)...)
		if err := rc.Route.Validate(); err != nil {
			rerrs = append(rerrs, prefixed("route.", err)...)
		}
		if len(rerrs) > 0 {
			errs = append(errs, prefixed(prefix+": ", errors.Join(rerrs...))...)
			continue
		}
		out = append(out, Receiver{Name: rc.Name, Kind: rc.Kind, Route: rc.Route, Sender: s, Fingerprint: rc.fingerprint()})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

// build checks that exactly the block of rc.Kind is set and constructs
// the sender.
func (rc ReceiverConfig) build(deps Deps) (Sender, error) {
	set := map[ReceiverKind]bool{KindWebhook: rc.Webhook != nil, KindAlertmanager: rc.Alertmanager != nil, KindSlack: rc.Slack != nil, KindEmail: rc.Email != nil}
	var errs []error
	known := false
	for _, k := range ReceiverKinds {
		if k == rc.Kind {
			known = true
			if !set[k] {
				errs = append(errs, fmt.Errorf("%s: missing (the settings of kind %s)", k, k))
			}
		} else if set[k] {
			errs = append(errs, fmt.Errorf("%s: set, but kind is %q", k, rc.Kind))
		}
	}
	if rc.Kind == "" {
		return nil, errors.Join(append([]error{fmt.Errorf("kind: missing (want one of %v)", ReceiverKinds)}, errs...)...)
	}
	if !known {
		return nil, errors.Join(append([]error{fmt.Errorf("kind: unknown kind %q (want one of %v)", rc.Kind, ReceiverKinds)}, errs...)...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var (
		s   Sender
		err error
	)
	switch rc.Kind {
	case KindWebhook:
		s, err = NewWebhook(*rc.Webhook, deps)
	case KindAlertmanager:
		s, err = NewAlertmanager(*rc.Alertmanager, deps)
	case KindSlack:
		s, err = NewSlack(*rc.Slack, deps)
	case KindEmail:
		s, err = NewEmail(*rc.Email, deps)
	}
	if err != nil {
		return nil, errors.Join(prefixed(string(rc.Kind)+".", err)...)
	}
	return s, nil
}

// flatten lists the errors joined in err.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// prefixed is every error joined in err with prefix in front of it.
func prefixed(prefix string, err error) []error {
	var out []error
	for _, e := range flatten(err) {
		out = append(out, fmt.Errorf("%s%w", prefix, e))
	}
	return out
}
