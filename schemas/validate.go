package schemas

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Errors of the validator. ErrUnknownType is also returned by EventSchema.
var (
	// ErrInvalid is wrapped by every error of a message that is not an
	// event matching its schema: not JSON, no type, or a schema violation
	// (then a *jsonschema.ValidationError is wrapped too).
	ErrInvalid = errors.New("schemas: invalid event")
	// ErrUnknownType: no schema exists for the event's type. The validator
	// wraps it together with ErrInvalid.
	ErrUnknownType = errors.New("schemas: unknown event type")
)

// Validator checks events against the JSON Schema of their type. It is
// safe for concurrent use.
type Validator struct {
	byType map[string]*jsonschema.Schema
}

// NewValidator compiles the schema of every event type in FS. Formats
// (date-time, uri-reference) are asserted, not just annotated.
func NewValidator() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	types := EventTypes()
	for _, t := range types {
		b, err := FS.ReadFile(EventSchemaPath(t))
		if err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", t, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", t, err)
		}
		if err := c.AddResource(resourceURL(t), doc); err != nil {
			return nil, fmt.Errorf("schemas: %s: %w", t, err)
		}
	}
	v := &Validator{byType: make(map[string]*jsonschema.Schema, len(types))}
	for _, t := range types {
		sch, err := c.Compile(resourceURL(t))
		if err != nil {
			return nil, fmt.Errorf("schemas: compile %s: %w", t, err)
		}
		v.byType[t] = sch
	}
	return v, nil
}

// resourceURL is the location the schema of eventType is compiled from; the
// schema's own $id (its dataschema URN) takes over for references inside it.
func resourceURL(eventType string) string {
	return "file:///schemas/" + EventSchemaPath(eventType)
}

// Validate checks that body is a JSON object whose `type` attribute names a
// known event type and that it matches that type's schema. Every error
// wraps ErrInvalid; an unknown type also wraps ErrUnknownType.
func (v *Validator) Validate(body []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return fmt.Errorf("%w: not a JSON object", ErrInvalid)
	}
	t, ok := obj["type"].(string)
	if !ok {
		return fmt.Errorf("%w: no string type attribute", ErrInvalid)
	}
	sch, ok := v.byType[t]
	if !ok {
		return fmt.Errorf("%w: %w %q", ErrInvalid, ErrUnknownType, t)
	}
	if err := sch.Validate(doc); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrInvalid, t, err)
	}
	return nil
}

// defaultValidator compiles the schemas on first use, once per process.
var defaultValidator = sync.OnceValues(NewValidator)

// ValidateEvent validates body (a CloudEvents structured-mode JSON message)
// against the schema chosen by its `type` attribute, compiling the schemas
// once on first use. Every mismatch wraps ErrInvalid; an unknown type also
// wraps ErrUnknownType.
func ValidateEvent(body []byte) error {
	v, err := defaultValidator()
	if err != nil {
		return err
	}
	return v.Validate(body)
}
