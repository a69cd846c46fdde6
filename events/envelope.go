package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrInvalid is wrapped by every error of Decode: the message is not a
// well-formed event of a known type (poison, never retried).
var ErrInvalid = errors.New("events: invalid event")

// Envelope is a CloudEvents 1.0 event in structured JSON mode.
type Envelope struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject"`
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	DataSchema      string          `json:"dataschema"`
	Data            json.RawMessage `json:"data"`
}

// SchemaURI is the dataschema of an event type.
func SchemaURI(eventType string) string { return "urn:database-service:schema:" + eventType }

// NewHealthChecked wraps a check in an envelope from source.
func NewHealthChecked(source string, h HealthChecked) (Envelope, error) {
	return newEnvelope(source, TypeHealthChecked, h.ID(), h.Target, h.CheckedAt, h)
}

// WrapHealthChecked wraps a check whose data the caller encoded already
// (data is json.Marshal(h)), so that a check is encoded once.
func WrapHealthChecked(source string, h HealthChecked, data []byte) Envelope {
	return wrap(source, TypeHealthChecked, h.ID(), h.Target, h.CheckedAt, data)
}

// NewStateChanged wraps a transition in an envelope from source.
func NewStateChanged(source string, s StateChanged) (Envelope, error) {
	return newEnvelope(source, TypeStateChanged, s.ID(), s.Target, s.At, s)
}

func newEnvelope(source, typ, id string, t TargetRef, at time.Time, data any) (Envelope, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("events: marshal %s: %w", typ, err)
	}
	return wrap(source, typ, id, t, at, b), nil
}

func wrap(source, typ, id string, t TargetRef, at time.Time, b []byte) Envelope {
	return Envelope{
		SpecVersion:     SpecVersion,
		ID:              id,
		Source:          source,
		Type:            typ,
		Subject:         t.Subject(),
		Time:            at.UTC(),
		DataContentType: DataContentType,
		DataSchema:      SchemaURI(typ),
		Data:            b,
	}
}

// Kind is the target type the event is about (the last word of its
// routing key), read from the subject.
func (e Envelope) Kind() string {
	if i := bytes.IndexByte([]byte(e.Subject), '/'); i > 0 {
		return e.Subject[:i]
	}
	return e.Subject
}

// RoutingKey is the routing key the envelope is published with.
func (e Envelope) RoutingKey() string { return RoutingKey(e.Type, e.Kind()) }

// Encode marshals the envelope to its wire form.
func Encode(e Envelope) ([]byte, error) { return json.Marshal(e) }

// Decode parses and checks an envelope: CloudEvents 1.0, a known type, the
// required attributes present and a data payload that decodes as that type.
func Decode(b []byte) (Envelope, error) {
	var e Envelope
	if len(bytes.TrimSpace(b)) == 0 {
		return e, fmt.Errorf("%w: empty body", ErrInvalid)
	}
	if err := json.Unmarshal(b, &e); err != nil {
		return e, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch {
	case e.SpecVersion != SpecVersion:
		return e, fmt.Errorf("%w: specversion %q", ErrInvalid, e.SpecVersion)
	case e.ID == "" || e.Source == "" || e.Subject == "":
		return e, fmt.Errorf("%w: id, source and subject are required", ErrInvalid)
	case e.Type != TypeHealthChecked && e.Type != TypeStateChanged:
		return e, fmt.Errorf("%w: unknown type %q", ErrInvalid, e.Type)
	case len(e.Data) == 0 || e.Data[0] != '{':
		return e, fmt.Errorf("%w: data must be a JSON object", ErrInvalid)
	}
	if err := checkTime("time", e.Time); err != nil {
		return e, err
	}
	var err error
	if e.Type == TypeHealthChecked {
		_, err = e.HealthChecked()
	} else {
		_, err = e.StateChanged()
	}
	return e, err
}

// HealthChecked decodes the data of a db.health.checked.v1 event.
func (e Envelope) HealthChecked() (HealthChecked, error) {
	h, err := decodeData[HealthChecked](e, TypeHealthChecked)
	if err != nil {
		return h, err
	}
	if h.Target.Type == "" || h.Target.Name == "" || h.State == "" {
		return h, fmt.Errorf("%w: data: target and state are required", ErrInvalid)
	}
	if len(h.Details) > 0 && h.Details[0] != '{' {
		return h, fmt.Errorf("%w: data.details must be an object", ErrInvalid)
	}
	return h, checkTime("data.checked_at", h.CheckedAt)
}

// StateChanged decodes the data of a db.health.state_changed.v1 event.
func (e Envelope) StateChanged() (StateChanged, error) {
	s, err := decodeData[StateChanged](e, TypeStateChanged)
	if err != nil {
		return s, err
	}
	if s.Target.Type == "" || s.Target.Name == "" || s.To == "" || s.Seq < 1 {
		return s, fmt.Errorf("%w: data: target, to and seq >= 1 are required", ErrInvalid)
	}
	if err := checkTime("data.at", s.At); err != nil {
		return s, err
	}
	return s, checkTime("data.check.checked_at", s.Check.CheckedAt)
}

// decodeData decodes the data of e, which must be of type typ, into a T.
func decodeData[T any](e Envelope, typ string) (T, error) {
	var data T
	if e.Type != typ {
		return data, fmt.Errorf("%w: type %q is not %s", ErrInvalid, e.Type, typ)
	}
	if err := json.Unmarshal(e.Data, &data); err != nil {
		return data, fmt.Errorf("%w: data: %v", ErrInvalid, err)
	}
	return data, nil
}

// checkTime rejects a time that parsed but cannot be encoded again (a zone
// offset of 24 hours, e.g. "+24:00"), so that every decoded event re-encodes.
func checkTime(field string, t time.Time) error {
	if _, err := t.MarshalText(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, field, err)
	}
	return nil
}
