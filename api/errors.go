package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/notify/mute"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/registry"
)

// Sentinel errors. Dependencies wrap them (with %w) to choose the answer.
var (
	// ErrNotFound: the thing asked for does not exist (404).
	ErrNotFound = errors.New("api: not found")
	// ErrUnavailable: a read model store (or another dependency) could not
	// be reached (503). Handlers wrap every unclassified error of a store
	// read with it.
	ErrUnavailable = errors.New("api: unavailable")
	// ErrNotConfigured: the dependency behind a route was not wired (503).
	ErrNotConfigured = errors.New("api: not configured")
)

// ParamError is a bad request value: a query parameter, a path parameter or
// a field of a JSON body. It answers 400 with code "invalid_parameter" and
// a message naming the parameter. Dependencies may return their own error
// types instead: any error with a Field() string method is treated alike.
type ParamError struct {
	// Name is the parameter or field ("limit", "since", "metadata.env").
	Name string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *ParamError) Error() string { return "invalid " + e.Name + ": " + e.Reason }

// Field names the bad parameter.
func (e *ParamError) Field() string { return e.Name }

// fieldError is any error that names the request field it is about.
type fieldError interface {
	error
	Field() string
}

// httpError is an error already classified by a handler: status, code and
// a message safe to show. err (the cause) is only logged.
type httpError struct {
	status  int
	code    string
	message string
	err     error
}

func (e *httpError) Error() string {
	if e.err != nil {
		return e.code + ": " + e.message + ": " + e.err.Error()
	}
	return e.code + ": " + e.message
}

func (e *httpError) Unwrap() error { return e.err }

// errorBody is the shape of every error response.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// classify maps an error to status, code and a message safe to show. It is
// the only place where errors become HTTP statuses.
func classify(err error) (status int, code, message string) {
	var he *httpError
	var fe fieldError
	var ee *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he.status, he.code, he.message
	case errors.As(err, &fe):
		return http.StatusBadRequest, "invalid_parameter", fe.Error()
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, "payload_too_large", "request body larger than 1 MiB"
	case errors.Is(err, projections.ErrBadCursor):
		return http.StatusBadRequest, "invalid_parameter", "invalid cursor: pass the next of a previous page"
	case errors.Is(err, projections.ErrBadQuery):
		return http.StatusBadRequest, "invalid_parameter", strings.TrimPrefix(err.Error(), "projections: ")
	case errors.Is(err, ErrNotFound):
		return http.StatusNotFound, "not_found", trimPrefix(err.Error())
	case errors.Is(err, ErrNotConfigured):
		return http.StatusServiceUnavailable, "not_configured", trimPrefix(err.Error())
	case errors.Is(err, ErrUnavailable):
		// The cause (a store error) is logged, never shown: it may name
		// hosts or, through a badly built URL, credentials.
		return http.StatusServiceUnavailable, "unavailable", "a read model store is unreachable; retry later"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "timeout", "a dependency did not answer in time"
	case errors.As(err, &ee):
		return echoError(ee)
	}
	return http.StatusInternalServerError, "internal", "internal error"
}

// echoError maps echo's own errors (routing, body limit, binding).
func echoError(ee *echo.HTTPError) (int, string, string) {
	if ee.Internal != nil {
		var mbe *http.MaxBytesError
		if errors.As(ee.Internal, &mbe) {
			return http.StatusRequestEntityTooLarge, "payload_too_large", "request body larger than 1 MiB"
		}
	}
	switch ee.Code {
	case http.StatusNotFound:
		return ee.Code, "not_found", "no such route"
	case http.StatusMethodNotAllowed:
		return ee.Code, "method_not_allowed", "method not allowed on this route"
	case http.StatusRequestEntityTooLarge:
		return ee.Code, "payload_too_large", "request body larger than 1 MiB"
	case http.StatusUnsupportedMediaType:
		return ee.Code, "unsupported_media_type", "request body must be application/json"
	case http.StatusUnauthorized:
		return ee.Code, "unauthorized", "missing or invalid bearer token"
	}
	code := strings.ToLower(strings.ReplaceAll(http.StatusText(ee.Code), " ", "_"))
	if code == "" {
		code = "error"
	}
	msg := http.StatusText(ee.Code)
	if ee.Code < 500 {
		if m, ok := ee.Message.(string); ok && m != "" {
			msg = m
		}
	}
	return ee.Code, code, msg
}

// trimPrefix drops the "api: " of the sentinels from a message shown to
// clients.
func trimPrefix(msg string) string { return strings.TrimPrefix(msg, "api: ") }

// errorHandler is the echo HTTPErrorHandler: it writes every error in the
// one shape and logs causes worth knowing about.
func errorHandler(logger *slog.Logger, scrub func(error) string) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			if !errors.Is(err, context.Canceled) {
				logger.Warn("error after response started", "err", scrub(err), "request_id", requestIDOf(c))
			}
			return
		}
		if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
			// The client went away: nobody to answer. 499 in the log.
			c.Response().Status = 499
			return
		}
		status, code, message := classify(err)
		if status >= 500 {
			logger.Warn("request failed", "err", scrub(err), "status", status, "code", code,
				"request_id", requestIDOf(c), "route", c.Path())
		}
		if status == http.StatusUnauthorized {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="database-service"`)
		}
		body := errorBody{Error: errorDetail{Code: code, Message: message}}
		var werr error
		if c.Request().Method == http.MethodHead {
			werr = c.NoContent(status)
		} else {
			werr = c.JSON(status, body)
		}
		if werr != nil {
			logger.Debug("writing error response failed", "err", werr)
		}
	}
}

// unavailable wraps a store read error: errors about the request (a bad
// field, cursor or query, not found, the client gone) keep their meaning,
// anything else becomes ErrUnavailable.
func unavailable(what string, err error) error {
	var fe fieldError
	if errors.As(err, &fe) || errors.Is(err, ErrNotFound) || errors.Is(err, context.Canceled) ||
		errors.Is(err, projections.ErrBadCursor) || errors.Is(err, projections.ErrBadQuery) {
		return err
	}
	return &httpError{status: http.StatusServiceUnavailable, code: "unavailable",
		message: "the " + what + " read model is unreachable; retry later", err: errors.Join(ErrUnavailable, err)}
}

// notConfigured is the error of a route whose dependency is nil.
func notConfigured(what string) error {
	return &httpError{status: http.StatusServiceUnavailable, code: "not_configured",
		message: what + " is not available on this replica", err: ErrNotConfigured}
}

// paramErr is a 400 naming a parameter.
func paramErr(name, reason string) error { return &ParamError{Name: name, Reason: reason} }

// scrubber masks the configured secrets in an error's text for the log.
func scrubber(secrets func() []secret.String) func(error) string {
	return func(err error) string {
		if err == nil {
			return ""
		}
		return secret.Scrub(err.Error(), secrets()...)
	}
}

// registryError maps a failed registration update: a validation error
// names its field (400), a disabled registry is not configured, anything
// else (Nacos unreachable) is unavailable.
func registryError(err error) error {
	var ve *registry.ValidationError
	switch {
	case errors.As(err, &ve):
		return paramErr(ve.Field, ve.Message)
	case errors.Is(err, registry.ErrDisabled):
		return fmt.Errorf("%w: registration is off (REGISTRY_ENABLED=false)", ErrNotConfigured)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// muteError maps the errors of silences, windows and acks: bad input is a
// 400 naming its field, an unknown id a 404, anything else a store that
// cannot be reached.
func muteError(err error) error {
	var fe *mute.FieldError
	switch {
	case errors.As(err, &fe):
		return paramErr(fe.Field, fe.Reason)
	case errors.Is(err, mute.ErrNotFound):
		return &httpError{status: http.StatusNotFound, code: "not_found", message: "no such silence, window or acknowledgement", err: err}
	case errors.Is(err, mute.ErrConfigured):
		return &httpError{status: http.StatusConflict, code: "conflict", message: "the window comes from the targets file; change it there", err: err}
	}
	return unavailable("silences", err)
}
