package api

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/events"
)

// eventTypeAliases maps the accepted ?type= values to event types.
var eventTypeAliases = map[string]string{
	"checked":                events.TypeHealthChecked,
	"health_checked":         events.TypeHealthChecked,
	"healthchecked":          events.TypeHealthChecked,
	events.TypeHealthChecked: events.TypeHealthChecked,
	"state_changed":          events.TypeStateChanged,
	"statechanged":           events.TypeStateChanged,
	events.TypeStateChanged:  events.TypeStateChanged,
}

// eventTypesParam reads ?type= (repeated or comma-separated): checked,
// state_changed or the full CloudEvents type names. None means all.
func eventTypesParam(c echo.Context) ([]string, error) {
	var out []string
	for _, v := range c.QueryParams()["type"] {
		for _, part := range strings.Split(v, ",") {
			part = strings.ToLower(strings.TrimSpace(part))
			if part == "" {
				continue
			}
			t, ok := eventTypeAliases[part]
			if !ok {
				return nil, paramErr("type", "must be checked, state_changed, "+events.TypeHealthChecked+" or "+events.TypeStateChanged)
			}
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	if len(out) == 0 {
		out = slices.Clone(events.Types)
	}
	slices.Sort(out)
	return out, nil
}

// eventTargetsParam reads ?target= (repeated or comma-separated
// "<type>/<name>"): only these targets' events. None means every target.
func eventTargetsParam(c echo.Context) ([]string, error) {
	var out []string
	for _, v := range c.QueryParams()["target"] {
		for _, part := range strings.Split(v, ",") {
			if part = strings.TrimSpace(part); part == "" {
				continue
			}
			kind, name, ok := strings.Cut(part, "/")
			if !ok || !events.Kind(kind).Valid() || name == "" || strings.Contains(name, "/") {
				return nil, paramErr("target", "must be <type>/<name>, the type one of "+validKinds())
			}
			if !slices.Contains(out, part) {
				out = append(out, part)
			}
		}
	}
	return out, nil
}

// getEvents serves GET /api/database/events: a Server-Sent Events stream
// of the events as they arrive. Each event is
//
//	id: <event id>
//	event: <event type>
//	data: <CloudEvents JSON envelope>
//
// with a ": heartbeat" comment every HeartbeatInterval. It ends when the
// client disconnects, the subscription closes or the server shuts down.
func (s *Server) getEvents(c echo.Context) error {
	types, err := eventTypesParam(c)
	if err != nil {
		return err
	}
	targets, err := eventTargetsParam(c)
	if err != nil {
		return err
	}
	if s.deps.Events == nil {
		return notConfigured("the event stream")
	}
	release, err := s.streams.acquire(c.Request())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()
	ch, unsubscribe, err := s.deps.Events.Subscribe(ctx, types)
	if err != nil {
		release()
		return unavailable("event stream", err)
	}
	defer unsubscribe()
	defer release() // the slot is free before the subscription ends

	res := c.Response()
	// A stream outlives the server's WriteTimeout; instead every write
	// has its own deadline, so a client that stops reading (a full TCP
	// window) is dropped rather than holding the stream forever.
	rc := http.NewResponseController(res)
	h := res.Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	res.WriteHeader(http.StatusOK)
	w := bufio.NewWriter(res)
	send := func(chunks ...string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.opts.StreamWriteTimeout))
		for _, ch := range chunks {
			if _, err := w.WriteString(ch); err != nil {
				return false
			}
		}
		if err := w.Flush(); err != nil {
			return false
		}
		res.Flush()
		return true
	}
	if !send("retry: 3000\n", ": connected\n\n") {
		return nil
	}
	s.metrics.sseClients.Inc()
	defer s.metrics.sseClients.Dec()

	hb := time.NewTicker(s.opts.HeartbeatInterval)
	defer hb.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.stopStreams:
			return nil
		case <-hb.C:
			if !send(": heartbeat\n\n") {
				return nil
			}
		case env, ok := <-ch:
			if !ok {
				return nil
			}
			if !slices.Contains(types, env.Type) || (len(targets) > 0 && !slices.Contains(targets, env.Subject)) {
				continue
			}
			b, err := json.Marshal(env)
			if err != nil {
				s.opts.Logger.Warn("event not encodable", "err", s.scrub(err), "event_id", env.ID)
				continue
			}
			if !send("id: ", oneLine(env.ID), "\nevent: ", oneLine(env.Type), "\ndata: ", string(b), "\n\n") {
				return nil
			}
		}
	}
}

// oneLine keeps a field on one SSE line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}
