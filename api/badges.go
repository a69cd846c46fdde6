package api

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// badgeColors are the shields.io colours of the badge values.
var badgeColors = map[string]string{
	"UP": "#4c1", "DEGRADED": "#dfb317", "DOWN": "#e05d44", "UNKNOWN": "#9f9f9f",
}

// getBadge serves GET /api/database/badges/{database_type}/{name}/{badge}:
// a shields-style SVG of a target's health, 24h or 7d uptime or latest
// latency, with an ETag (If-None-Match answers 304). An unknown target or
// badge is a 404 with the JSON error body.
func (s *Server) getBadge(c echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	name, badge := c.Param("name"), strings.TrimSuffix(c.Param("badge"), ".svg")
	if !strings.HasSuffix(c.Param("badge"), ".svg") {
		return echo.ErrNotFound
	}
	var label, value, color string
	switch badge {
	case "health", "latency":
		st, err := s.targetStatus(c, kind, name)
		if err != nil {
			return err
		}
		state := stateOf(st)
		label, value, color = "health", state, badgeColors[state]
		if badge == "latency" {
			label, value, color = "latency", "n/a", badgeColors["UNKNOWN"]
			if st.CheckedAt != nil {
				value, color = strconv.FormatFloat(st.LatencyMS, 'f', 1, 64)+" ms", latencyColor(st.LatencyMS)
			}
		}
	case "uptime-24h", "uptime-7d":
		window := strings.TrimPrefix(badge, "uptime-")
		m, err := s.targetMetrics(c, kind, name)
		if err != nil {
			return err
		}
		label, value, color = "uptime "+window, "n/a", badgeColors["UNKNOWN"]
		if u := m.Uptime[window]; u != nil {
			value, color = strconv.FormatFloat(*u*100, 'f', 2, 64)+"%", uptimeColor(*u)
		}
	default:
		return echo.ErrNotFound
	}
	body := badgeSVG(label, value, color)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:8]) + `"`
	h := c.Response().Header()
	h.Set("ETag", etag)
	h.Set("Cache-Control", "public, max-age=30")
	if match := c.Request().Header.Get("If-None-Match"); match != "" && strings.Contains(match, etag) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, "image/svg+xml; charset=utf-8", body)
}

// targetStatus is the status of one target; ErrNotFound (404) when the
// status read model does not know it.
func (s *Server) targetStatus(c echo.Context, kind events.Kind, name string) (projections.TargetStatus, error) {
	if s.status == nil {
		return projections.TargetStatus{}, notConfigured("the status read model")
	}
	snap, err := s.status.get(c.Request().Context())
	if err != nil {
		return projections.TargetStatus{}, err
	}
	for _, st := range snap.statuses {
		if st.Type == string(kind) && st.Name == name {
			return st, nil
		}
	}
	return projections.TargetStatus{}, unknownTarget(kind, name)
}

// targetMetrics is the rolled-up metrics of one target; 404 when unknown.
func (s *Server) targetMetrics(c echo.Context, kind events.Kind, name string) (projections.TargetMetrics, error) {
	if s.deps.ReadModels == nil {
		return projections.TargetMetrics{}, notConfigured("the metrics read model")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	ms, err := s.deps.ReadModels.AllMetrics(ctx)
	if err != nil {
		return projections.TargetMetrics{}, unavailable("metrics", err)
	}
	for _, m := range ms {
		if m.Type == string(kind) && m.Name == name {
			return m, nil
		}
	}
	return projections.TargetMetrics{}, unknownTarget(kind, name)
}

// unknownTarget is the 404 of a target no read model knows.
func unknownTarget(kind events.Kind, name string) error {
	return &httpError{status: http.StatusNotFound, code: "not_found", message: "unknown target " + string(kind) + "/" + strconv.Quote(name)}
}

// uptimeColor grades an uptime ratio the way shields.io grades coverage.
func uptimeColor(u float64) string {
	switch {
	case u >= 0.999:
		return badgeColors["UP"]
	case u >= 0.99:
		return "#97ca00"
	case u >= 0.95:
		return badgeColors["DEGRADED"]
	default:
		return badgeColors["DOWN"]
	}
}

// latencyColor grades a latency in milliseconds.
func latencyColor(ms float64) string {
	switch {
	case ms < 100:
		return badgeColors["UP"]
	case ms < 1000:
		return badgeColors["DEGRADED"]
	default:
		return badgeColors["DOWN"]
	}
}

// textWidth estimates the width in pixels of s in 11px Verdana, as
// shields.io lays out its flat badges.
func textWidth(s string) int {
	w := 0.0
	for _, r := range s {
		switch {
		case strings.ContainsRune("iljI.:|!'", r):
			w += 3.5
		case strings.ContainsRune("mwMW%", r):
			w += 10
		case r >= 'A' && r <= 'Z':
			w += 7.5
		default:
			w += 6.5
		}
	}
	return int(w) + 10
}

// badgeSVG draws a flat shields-style badge: label on grey, value on color.
func badgeSVG(label, value, color string) []byte {
	lw, vw := textWidth(label), textWidth(value)
	l, v := html.EscapeString(label), html.EscapeString(value)
	return fmt.Appendf(nil, `<svg xmlns="http://www.w3.org/2000/svg" width="%[1]d" height="20" role="img" aria-label="%[3]s: %[4]s">`+
		`<title>%[3]s: %[4]s</title>`+
		`<linearGradient id="s" x2="0" y2="100%%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`+
		`<clipPath id="r"><rect width="%[1]d" height="20" rx="3" fill="#fff"/></clipPath>`+
		`<g clip-path="url(#r)"><rect width="%[2]d" height="20" fill="#555"/><rect x="%[2]d" width="%[5]d" height="20" fill="%[6]s"/><rect width="%[1]d" height="20" fill="url(#s)"/></g>`+
		`<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">`+
		`<text x="%[7]d" y="15" fill="#010101" fill-opacity=".3">%[3]s</text><text x="%[7]d" y="14">%[3]s</text>`+
		`<text x="%[8]d" y="15" fill="#010101" fill-opacity=".3">%[4]s</text><text x="%[8]d" y="14">%[4]s</text></g></svg>`,
		lw+vw, lw, l, v, vw, color, lw/2, lw+vw/2)
}
