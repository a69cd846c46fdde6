package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/notify"
)

// Notifications is the notification log (a notify.Log has these methods).
type Notifications interface {
	// List returns up to limit entries in state, oldest change first.
	List(ctx context.Context, state notify.EntryState, limit int) ([]notify.Entry, error)
	// Retry re-queues a dead-lettered notification; notify.ErrNotFound,
	// notify.ErrNotFailed.
	Retry(ctx context.Context, id string) error
}

// Receivers describes the configured receivers.
type Receivers interface {
	// Receivers lists every receiver, with why it is disabled if it is.
	Receivers() []ReceiverInfo
	// Enable turns a receiver disabled by a 410 on again, on every
	// replica; ErrUnknownReceiver when none has that name.
	Enable(ctx context.Context, name string) error
}

// ErrUnknownReceiver is Receivers.Enable's answer for a name no receiver
// in force has.
var ErrUnknownReceiver = errors.New("api: no such receiver")

// ReceiverInfo is one receiver in GET /api/database/alerts/receivers.
type ReceiverInfo struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Disabled is set once the receiver answered 410 Gone (on any
	// replica); its notifications are dead-lettered until its endpoint
	// changes in the configuration or it is enabled through the API.
	Disabled       bool   `json:"disabled"`
	DisabledReason string `json:"disabled_reason,omitempty"`
}

// NotificationsResponse is the body of GET /api/database/alerts/notifications.
type NotificationsResponse struct {
	Notifications []notify.Entry `json:"notifications"`
}

// ReceiversResponse is the body of GET /api/database/alerts/receivers.
type ReceiversResponse struct {
	Receivers []ReceiverInfo `json:"receivers"`
}

// getNotifications serves GET /api/database/alerts/notifications.
func (s *Server) getNotifications(c echo.Context) error {
	state := notify.EntryState(c.QueryParam("state"))
	if state == "" {
		state = notify.EntryFailed
	}
	if !state.Valid() {
		return paramErr("state", "must be pending, delivered, failed or suppressed")
	}
	limit, err := limitParam(c)
	if err != nil {
		return err
	}
	if s.deps.Notifications == nil {
		return notConfigured("alert delivery")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	es, err := s.deps.Notifications.List(ctx, state, limit)
	if err != nil {
		return unavailable("notification log", err)
	}
	if es == nil {
		es = []notify.Entry{}
	}
	return c.JSON(http.StatusOK, NotificationsResponse{Notifications: es})
}

// postNotificationRetry serves POST
// /api/database/alerts/notifications/{id}/retry.
func (s *Server) postNotificationRetry(c echo.Context) error {
	if s.deps.Notifications == nil {
		return notConfigured("alert delivery")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	switch err := s.deps.Notifications.Retry(ctx, idParam(c)); {
	case errors.Is(err, notify.ErrNotFound):
		return &httpError{status: http.StatusNotFound, code: "not_found", message: "no such notification", err: err}
	case errors.Is(err, notify.ErrNotFailed):
		return &httpError{status: http.StatusConflict, code: "conflict", message: "only a failed notification can be retried", err: err}
	case err != nil:
		return unavailable("notification log", err)
	}
	return c.JSON(http.StatusAccepted, map[string]string{"id": idParam(c), "state": string(notify.EntryPending)})
}

// postReceiverEnable serves POST
// /api/database/alerts/receivers/{name}/enable.
func (s *Server) postReceiverEnable(c echo.Context) error {
	if s.deps.Receivers == nil {
		return notConfigured("alert delivery")
	}
	ctx, cancel := s.readCtx(c)
	defer cancel()
	name := c.Param("name")
	switch err := s.deps.Receivers.Enable(ctx, name); {
	case errors.Is(err, ErrUnknownReceiver):
		return &httpError{status: http.StatusNotFound, code: "not_found", message: "no such receiver", err: err}
	case err != nil:
		return unavailable("receivers", err)
	}
	for _, r := range s.deps.Receivers.Receivers() {
		if r.Name == name {
			return c.JSON(http.StatusOK, r)
		}
	}
	return &httpError{status: http.StatusNotFound, code: "not_found", message: "no such receiver", err: ErrUnknownReceiver}
}

// getReceivers serves GET /api/database/alerts/receivers.
func (s *Server) getReceivers(c echo.Context) error {
	if s.deps.Receivers == nil {
		return notConfigured("alert delivery")
	}
	rs := s.deps.Receivers.Receivers()
	if rs == nil {
		rs = []ReceiverInfo{}
	}
	return c.JSON(http.StatusOK, ReceiversResponse{Receivers: rs})
}
