package api

import (
	"context"
	"net/http"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/dbhealth/database-service/events"
)

// ConnectionsResponse is the body of GET /api/database/connections.
type ConnectionsResponse struct {
	Connections []Connection `json:"connections"`
}

// TestResponse is the body of POST /api/database/connections/test/{database_type}.
type TestResponse struct {
	Type    string       `json:"type"`
	Results []TestResult `json:"results"`
}

// getConnections serves GET /api/database/connections.
func (s *Server) getConnections(c echo.Context) error {
	if s.deps.Connections == nil {
		return notConfigured("the connection manager")
	}
	conns := s.deps.Connections.Connections()
	out := make([]Connection, len(conns))
	copy(out, conns)
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := kindRank(string(out[i].Type)), kindRank(string(out[j].Type)); ri != rj {
			return ri < rj
		}
		return out[i].Name < out[j].Name
	})
	return c.JSON(http.StatusOK, ConnectionsResponse{Connections: out})
}

// postTest serves POST /api/database/connections/test/{database_type}.
func (s *Server) postTest(c echo.Context) error {
	kind, err := kindParam(c)
	if err != nil {
		return err
	}
	name, err := nameParam(c)
	if err != nil {
		return err
	}
	if s.deps.Tester == nil {
		return notConfigured("the connection tester")
	}
	if err := s.tests.allow(c, kind); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), s.opts.TestTimeout)
	defer cancel()
	results, err := s.deps.Tester.Test(ctx, kind, name)
	if err != nil {
		return err
	}
	out := TestResponse{Type: string(kind), Results: make([]TestResult, len(results))}
	for i, r := range results {
		r.Details = events.DetailsOrEmpty(r.Details)
		out.Results[i] = r
	}
	return c.JSON(http.StatusOK, out)
}
