package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/notify/mute"
	"github.com/dbhealth/database-service/projections"
)

// Silences keeps the silences (a mute.Store has these methods).
type Silences interface {
	PutSilence(ctx context.Context, s mute.Silence) error
	Silences(ctx context.Context) ([]mute.Silence, error)
	// ExpireSilence ends the silence now; mute.ErrNotFound when unknown.
	ExpireSilence(ctx context.Context, id string, now time.Time) (mute.Silence, error)
}

// Maintenance keeps the maintenance windows: those of the configuration
// and those created through the API.
type Maintenance interface {
	PutWindow(ctx context.Context, w mute.Window) error
	// Windows lists every window, configured ones included.
	Windows(ctx context.Context) ([]mute.Window, error)
	// DeleteWindow removes a window created through the API;
	// mute.ErrNotFound when unknown, mute.ErrConfigured for a window of
	// the configuration.
	DeleteWindow(ctx context.Context, id string) error
}

// Acks keeps the acknowledgements of alerts (a mute.Store has these
// methods).
type Acks interface {
	PutAck(ctx context.Context, a mute.Ack) error
	// DeleteAck removes an alert's ack; mute.ErrNotFound when not acked.
	DeleteAck(ctx context.Context, alertID string) error
}

// SilencesResponse is the body of GET /api/database/alerts/silences.
type SilencesResponse struct {
	Silences []mute.Silence `json:"silences"`
}

// WindowsResponse is the body of GET /api/database/maintenance.
type WindowsResponse struct {
	Windows []WindowStatus `json:"windows"`
}

// WindowStatus is a maintenance window and whether it is open now. Its
// JSON is the window's with an "active" field.
type WindowStatus struct {
	mute.Window
	Active bool `json:"active"`
}

// MarshalJSON adds "active" to the window's own JSON form.
func (w WindowStatus) MarshalJSON() ([]byte, error) {
	b, err := json.Marshal(w.Window)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["active"] = json.RawMessage(strconv.FormatBool(w.Active))
	return json.Marshal(m)
}

// UnmarshalJSON reads the window and "active".
func (w *WindowStatus) UnmarshalJSON(b []byte) error {
	var a struct {
		Active bool `json:"active"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	w.Active = a.Active
	return json.Unmarshal(b, &w.Window)
}

// AckRequest is the body of POST /api/database/alerts/{id}/ack.
type AckRequest struct {
	By      string `json:"by"`
	Comment string `json:"comment"`
}

// silenceStatuses are the values of ?state= on the silences endpoint.
var silenceStatuses = map[string]bool{"": true, "all": true, mute.StatusActive: true, mute.StatusPending: true, mute.StatusExpired: true}

// getSilences serves GET /api/database/alerts/silences.
func (s *Server) getSilences(c echo.Context) error {
	state := c.QueryParam("state")
	if !silenceStatuses[state] {
		return paramErr("state", "must be active, pending, expired or all")
	}
	if s.deps.Silences == nil {
		return notConfigured("silences")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	all, err := s.deps.Silences.Silences(ctx)
	if err != nil {
		return unavailable("silences", err)
	}
	out := []mute.Silence{}
	for _, si := range mute.WithStatus(all, s.opts.Now()) {
		if state == "" || state == "all" || si.Status == state {
			out = append(out, si)
		}
	}
	return c.JSON(http.StatusOK, SilencesResponse{Silences: out})
}

// postSilence serves POST /api/database/alerts/silences.
func (s *Server) postSilence(c echo.Context) error {
	var si mute.Silence
	if err := decodeJSON(c.Request().Body, &si); err != nil {
		return err
	}
	now := s.opts.Now()
	if si.StartsAt.IsZero() {
		si.StartsAt = now
	}
	if err := si.Validate(); err != nil {
		return muteError(err)
	}
	if s.deps.Silences == nil {
		return notConfigured("silences")
	}
	si.ID, si.UpdatedAt = mute.NewID(), now
	si.Status = si.StatusAt(now)
	ctx, cancel := s.readCtx(c)
	defer cancel()
	if err := s.deps.Silences.PutSilence(ctx, si); err != nil {
		return unavailable("silences", err)
	}
	return c.JSON(http.StatusCreated, si)
}

// deleteSilence serves DELETE /api/database/alerts/silences/{id}: the
// silence expires now.
func (s *Server) deleteSilence(c echo.Context) error {
	if s.deps.Silences == nil {
		return notConfigured("silences")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	now := s.opts.Now()
	si, err := s.deps.Silences.ExpireSilence(ctx, idParam(c), now)
	if err != nil {
		return muteError(err)
	}
	si.Status = si.StatusAt(now)
	return c.JSON(http.StatusOK, si)
}

// getWindows serves GET /api/database/maintenance.
func (s *Server) getWindows(c echo.Context) error {
	if s.deps.Maintenance == nil {
		return notConfigured("maintenance windows")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	ws, err := s.deps.Maintenance.Windows(ctx)
	if err != nil {
		return unavailable("maintenance", err)
	}
	now := s.opts.Now()
	out := WindowsResponse{Windows: make([]WindowStatus, len(ws))}
	for i, w := range ws {
		out.Windows[i] = WindowStatus{Window: w, Active: w.ActiveAt(now)}
	}
	return c.JSON(http.StatusOK, out)
}

// postWindow serves POST /api/database/maintenance: an ad-hoc window.
func (s *Server) postWindow(c echo.Context) error {
	var w mute.Window
	if err := decodeJSON(c.Request().Body, &w); err != nil {
		return err
	}
	w.ID, w.Source = mute.NewID(), "api"
	if err := w.Validate(); err != nil {
		return muteError(err)
	}
	if s.deps.Maintenance == nil {
		return notConfigured("maintenance windows")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	if err := s.deps.Maintenance.PutWindow(ctx, w); err != nil {
		return unavailable("maintenance", err)
	}
	return c.JSON(http.StatusCreated, WindowStatus{Window: w, Active: w.ActiveAt(s.opts.Now())})
}

// deleteWindow serves DELETE /api/database/maintenance/{id}: an ad-hoc
// window ends now (a held notification of an alert still firing goes out
// within the muter's refresh). A window of the configuration is a 409.
func (s *Server) deleteWindow(c echo.Context) error {
	if s.deps.Maintenance == nil {
		return notConfigured("maintenance windows")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	if err := s.deps.Maintenance.DeleteWindow(ctx, idParam(c)); err != nil {
		return muteError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// postAck serves POST /api/database/alerts/{id}/ack: no more reminders.
func (s *Server) postAck(c echo.Context) error {
	var req AckRequest
	if err := decodeJSON(c.Request().Body, &req); err != nil {
		return err
	}
	a := mute.Ack{AlertID: idParam(c), By: req.By, Comment: req.Comment, At: s.opts.Now()}
	if err := a.Validate(); err != nil {
		return muteError(err)
	}
	if s.deps.Acks == nil {
		return notConfigured("acknowledgements")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	if err := s.alertExists(ctx, a.AlertID); err != nil {
		return err
	}
	if err := s.deps.Acks.PutAck(ctx, a); err != nil {
		return unavailable("acknowledgements", err)
	}
	return c.JSON(http.StatusOK, a)
}

// postUnack serves POST /api/database/alerts/{id}/unack: reminders again.
func (s *Server) postUnack(c echo.Context) error {
	if s.deps.Acks == nil {
		return notConfigured("acknowledgements")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	if err := s.deps.Acks.DeleteAck(ctx, idParam(c)); err != nil {
		return muteError(err)
	}
	return c.NoContent(http.StatusNoContent)
}

// alertExists is nil when a firing alert has id, else a 404.
func (s *Server) alertExists(ctx context.Context, id string) error {
	if s.deps.ReadModels == nil {
		return notConfigured("the alerts read model")
	}
	alerts, err := s.deps.ReadModels.Alerts(ctx, projections.AlertQuery{State: projections.AlertFiring, Limit: projections.MaxAlertLimit})
	if err != nil {
		return unavailable("alerts", err)
	}
	for _, a := range alerts {
		if a.ID == id {
			return nil
		}
	}
	return &httpError{status: http.StatusNotFound, code: "not_found", message: "no firing alert has this id", err: ErrNotFound}
}
