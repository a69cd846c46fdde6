package projections

import (
	"context"
	"errors"
	"fmt"

	"github.com/dbhealth/database-service/events"
)

// States as they appear in events (the events vocabulary, as strings: the
// events' fields are strings). UNKNOWN is the state of a target before its
// first transition.
const (
	StateUnknown  = string(events.StateUnknown)
	StateUp       = string(events.StateUp)
	StateDegraded = string(events.StateDegraded)
	StateDown     = string(events.StateDown)
)

// ErrBadCursor is wrapped by a history query whose cursor was not produced
// by a previous page (the API answers 400).
var ErrBadCursor = errors.New("projections: invalid cursor")

// ErrBadQuery is wrapped by a query with an invalid value, such as an
// unknown alert state (the API answers 400).
var ErrBadQuery = errors.New("projections: invalid query")

// Severity is the severity of the alert a target in state is in: critical
// for DOWN, warning for DEGRADED, "" for every other state (no alert).
func Severity(state string) string { return string(events.SeverityOf(events.State(state))) }

// Routing-key bindings of the handler groups.
var (
	bindChecked = events.RoutingKey(events.TypeHealthChecked, "*")
	bindChanged = events.RoutingKey(events.TypeStateChanged, "*")
)

// validChecked rejects a check no projection can place: it needs a target,
// a state and a positive slot. The error wraps events.ErrInvalid (poison).
func validChecked(h events.HealthChecked) error {
	return placeable("check", h, h.Target, h.State, h.Slot > 0, "slot must be positive")
}

// validChanged rejects a transition no projection can place: it needs a
// target, a new state, seq >= 1 and epoch >= 0. The error wraps
// events.ErrInvalid (poison).
func validChanged(s events.StateChanged) error {
	return placeable("transition", s, s.Target, s.To, s.Seq >= 1 && s.Epoch >= 0, "seq must be >= 1 and epoch >= 0")
}

// placeable rejects an event e (what: a check or a transition) without a
// target t, without a state, or whose position (slot, seq) is not valid:
// rule says what a valid one is. The error wraps events.ErrInvalid.
func placeable[E interface{ ID() string }](what string, e E, t events.TargetRef, state string, validPosition bool, rule string) error {
	switch {
	case t.Type == "" || t.Name == "":
		return fmt.Errorf("%w: %s without target", events.ErrInvalid, what)
	case state == "":
		return fmt.Errorf("%w: %s %s without state", events.ErrInvalid, what, e.ID())
	case !validPosition:
		return fmt.Errorf("%w: %s %s: %s", events.ErrInvalid, what, e.ID(), rule)
	}
	return nil
}

// dispatch decodes env and calls the handler of its type; a nil handler
// ignores that (known) type. An unknown type is an error wrapping
// events.ErrInvalid.
func dispatch(ctx context.Context, env events.Envelope,
	onChecked func(context.Context, events.HealthChecked) error,
	onChanged func(context.Context, events.StateChanged) error,
) error {
	switch env.Type {
	case events.TypeHealthChecked:
		return decodeAndHandle(ctx, env.HealthChecked, onChecked)
	case events.TypeStateChanged:
		return decodeAndHandle(ctx, env.StateChanged, onChanged)
	}
	return fmt.Errorf("%w: unknown type %q", events.ErrInvalid, env.Type)
}

// decodeAndHandle decodes an event with decode and passes it to handle; a
// nil handle ignores the event without decoding it.
func decodeAndHandle[E any](ctx context.Context, decode func() (E, error), handle func(context.Context, E) error) error {
	if handle == nil {
		return nil
	}
	e, err := decode()
	if err != nil {
		return err
	}
	return handle(ctx, e)
}

// project validates e with valid and writes it with write: an invalid
// event is returned as is (it wraps events.ErrInvalid: poison), a store
// error wrapped with the group's name and the event's id (retryable).
func project[E interface{ ID() string }](ctx context.Context, group string, e E,
	valid func(E) error, write func(context.Context, E) error,
) error {
	if err := valid(e); err != nil {
		return err
	}
	if err := write(ctx, e); err != nil {
		return fmt.Errorf("projections: %s %s: %w", group, e.ID(), err)
	}
	return nil
}
