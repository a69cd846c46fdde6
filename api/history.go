package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/notify/mute"
	"github.com/dbhealth/database-service/projections"
)

// HistoryResponse is the body of GET /api/database/history/{database_type}:
// pass Next back as ?cursor= (or ?next=) for the following page; it is
// empty on the last page.
type HistoryResponse struct {
	Items []projections.HistoryItem `json:"items"`
	Next  string                    `json:"next"`
}

// AlertsResponse is the body of GET /api/database/alerts.
type AlertsResponse struct {
	Alerts []AlertView `json:"alerts"`
}

// AlertView is an alert with the marks that say why it is not notified
// (silenced_by, maintenance, acked_by); the marks are absent when none
// applies or alert delivery is not configured.
type AlertView struct {
	projections.Alert
	mute.Marks
}

// readCtx bounds one read of a read model.
func (s *Server) readCtx(c echo.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(c.Request().Context(), s.opts.ReadTimeout)
}

// getHistory serves GET /api/database/history/{database_type}.
func (s *Server) getHistory(c echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	q := projections.HistoryQuery{Type: string(kind)}
	if q.Name, err = nameParam(c); err != nil {
		return err
	}
	if q.Since, err = timeParam(c, "since"); err != nil {
		return err
	}
	if q.Until, err = timeParam(c, "until"); err != nil {
		return err
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && q.Since.After(q.Until) {
		return paramErr("since", "must not be after until")
	}
	if q.Limit, err = limitParam(c); err != nil {
		return err
	}
	if q.Cursor, err = cursorParam(c); err != nil {
		return err
	}
	if s.deps.ReadModels == nil {
		return notConfigured("the history read model")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	page, err := s.deps.ReadModels.History(ctx, q)
	if err != nil {
		return unavailable("history", err)
	}
	body := HistoryResponse{Items: page.Items, Next: page.Next}
	if body.Items == nil {
		body.Items = []projections.HistoryItem{}
	}
	return c.JSON(http.StatusOK, body)
}

// alertStates are the values of ?state= on the alerts endpoint.
var alertStates = map[string]bool{"": true, "all": true, projections.AlertFiring: true, projections.AlertResolved: true}

// getAlerts serves GET /api/database/alerts.
func (s *Server) getAlerts(c echo.Context) error {
	state := c.QueryParam("state")
	if !alertStates[state] {
		return paramErr("state", "must be firing, resolved or all")
	}
	if state == "" {
		state = "all"
	}
	limit, err := limitParam(c)
	if err != nil {
		return err
	}
	if s.deps.ReadModels == nil {
		return notConfigured("the alerts read model")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	alerts, err := s.deps.ReadModels.Alerts(ctx, projections.AlertQuery{State: state, Limit: limit})
	if err != nil {
		return unavailable("alerts", err)
	}
	if len(alerts) > limit {
		alerts = alerts[:limit]
	}
	out := AlertsResponse{Alerts: make([]AlertView, len(alerts))}
	for i, a := range alerts {
		out.Alerts[i].Alert = a
		if s.deps.Marks == nil {
			continue
		}
		if out.Alerts[i].Marks, err = s.deps.Marks.Marks(ctx, mute.Subject{Type: a.Type, Name: a.Name, Severity: a.Severity, AlertID: a.ID}); err != nil {
			return unavailable("silences", err)
		}
	}
	return c.JSON(http.StatusOK, out)
}
