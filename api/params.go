package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/labstack/echo/v4"
)

// Limits of the list endpoints.
const (
	defaultLimit = 100
	maxLimit     = 1000
)

// validKinds is the list of database types for error messages.
func validKinds() string {
	names := make([]string, len(events.Kinds))
	for i, k := range events.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// kindParam reads the database_type path parameter: an unknown type is a
// 404 whose message lists the valid ones.
func kindParam(c echo.Context) (events.Kind, error) {
	raw := c.Param("database_type")
	if strings.Contains(raw, "/") {
		return "", echo.ErrNotFound // a longer path than any route
	}
	k := events.Kind(strings.ToLower(raw))
	if !k.Valid() {
		return "", &httpError{status: http.StatusNotFound, code: "unknown_database_type",
			message: "unknown database_type " + strconv.Quote(raw) + "; valid types: " + validKinds()}
	}
	return k, nil
}

// limitParam reads ?limit= (default 100, 1..1000).
func limitParam(c echo.Context) (int, error) {
	raw := c.QueryParam("limit")
	if raw == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, paramErr("limit", "must be an integer between 1 and 1000")
	}
	if n < 1 || n > maxLimit {
		return 0, paramErr("limit", "must be between 1 and 1000")
	}
	return n, nil
}

// timeParam reads an optional RFC 3339 time parameter.
func timeParam(c echo.Context, name string) (time.Time, error) {
	raw := c.QueryParam(name)
	if raw == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, paramErr(name, "must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

// cursorParam reads the paging cursor, accepted as ?cursor= or ?next= (the
// name of the field it comes from); both at once must agree.
func cursorParam(c echo.Context) (string, error) {
	cur, next := c.QueryParam("cursor"), c.QueryParam("next")
	switch {
	case cur != "" && next != "" && cur != next:
		return "", paramErr("cursor", "cursor and next disagree; pass one of them")
	case cur != "":
		return cur, nil
	}
	return next, nil
}

// nameParam reads an optional ?name= target name.
func nameParam(c echo.Context) (string, error) {
	name := c.QueryParam("name")
	if len(name) > 256 {
		return "", paramErr("name", "longer than 256 characters")
	}
	return name, nil
}

// idParam is the {id} path parameter, percent-decoded: alert ids hold "/"
// and ":", which a client sends as %2F and %3A.
func idParam(c echo.Context) string {
	raw := c.Param("id")
	if id, err := url.PathUnescape(raw); err == nil {
		return id
	}
	return raw
}
