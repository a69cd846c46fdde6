package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"runtime"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/config/secret"
)

// HeaderRequestID carries the request id in requests and responses.
const HeaderRequestID = "X-Request-ID"

// maxBodyBytes is the largest request body accepted (1 MiB).
const maxBodyBytes = 1 << 20

type ctxKey struct{}

// RequestID returns the request id the API gave the request of ctx ("" if
// none), for dependencies that log.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// requestIDOf returns the request id of c.
func requestIDOf(c echo.Context) string {
	id, _ := c.Get("request_id").(string)
	return id
}

// validRequestID accepts client ids that are short and safe to log.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '-', r == '_', r == '.', r == ':':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// requestIDMiddleware takes the client's X-Request-ID when it is sane or
// generates one, echoes it in the response and puts it in the request
// context.
func requestIDMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(HeaderRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		c.Set("request_id", id)
		c.Response().Header().Set(HeaderRequestID, id)
		req := c.Request()
		c.SetRequest(req.WithContext(context.WithValue(req.Context(), ctxKey{}, id)))
		return next(c)
	}
}

// observe is the outermost middleware after the request id: it hands
// errors to the error handler (so the status is known), then writes the
// access log and records the request metrics.
func observe(logger *slog.Logger, m *httpMetrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			elapsed := time.Since(start)
			req, res := c.Request(), c.Response()
			route := c.Path()
			if route == "" || res.Status == http.StatusNotFound && route == "/*" {
				route = "unmatched"
			}
			status := res.Status
			m.observe(route, req.Method, status, elapsed)
			level := slog.LevelInfo
			if status >= 500 {
				level = slog.LevelWarn
			}
			if logger.Enabled(req.Context(), level) {
				logger.LogAttrs(req.Context(), level, "http request",
					slog.String("method", req.Method),
					slog.String("path", req.URL.Path),
					slog.String("route", route),
					slog.Int("status", status),
					slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
					slog.Int64("bytes", res.Size),
					slog.String("request_id", requestIDOf(c)),
					slog.String("remote", c.RealIP()),
				)
			}
			return nil
		}
	}
}

// recoverMiddleware turns a panic into a 500 error, logging the stack.
func recoverMiddleware(logger *slog.Logger, scrub func(error) string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				if r == http.ErrAbortHandler {
					panic(r)
				}
				stack := make([]byte, 8<<10)
				stack = stack[:runtime.Stack(stack, false)]
				logger.Error("panic in handler", "panic", scrub(fmt.Errorf("%v", r)), "stack", string(stack),
					"request_id", requestIDOf(c), "route", c.Path())
				err = fmt.Errorf("api: panic: %v", r)
			}()
			return next(c)
		}
	}
}

// requireToken demands "Authorization: Bearer <token>" when token is set.
// The comparison is constant-time over SHA-256 digests, so neither the
// content nor the length of the token leaks through timing.
func requireToken(token secret.String) echo.MiddlewareFunc {
	want := sha256.Sum256([]byte(token.Reveal()))
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if !token.IsSet() {
			return next
		}
		return func(c echo.Context) error {
			auth := c.Request().Header.Get(echo.HeaderAuthorization)
			scheme, given, ok := strings.Cut(auth, " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				return echo.ErrUnauthorized
			}
			got := sha256.Sum256([]byte(strings.TrimSpace(given)))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				return echo.ErrUnauthorized
			}
			return next(c)
		}
	}
}

// bodyPolicy guards request bodies: a body must be application/json (415)
// and at most 1 MiB (413, checked on Content-Length and while reading).
func bodyPolicy(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if !hasBody(req) {
			return next(c)
		}
		mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
		if err != nil || mt != echo.MIMEApplicationJSON {
			return echo.ErrUnsupportedMediaType
		}
		if req.ContentLength > maxBodyBytes {
			return echo.ErrStatusRequestEntityTooLarge
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, maxBodyBytes)
		return next(c)
	}
}

// hasBody reports whether the request carries a body (a chunked body of
// unknown length counts).
func hasBody(r *http.Request) bool {
	return r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0
}
