package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"

	"github.com/dbhealth/database-service/registry"
	"github.com/labstack/echo/v4"
)

// getConfig serves GET /api/database/config (token-protected).
func (s *Server) getConfig(c echo.Context) error {
	if s.deps.Config == nil {
		return notConfigured("the configuration view")
	}
	return c.JSON(http.StatusOK, s.deps.Config())
}

// getRegistryStatus serves GET /api/database/registry/status.
func (s *Server) getRegistryStatus(c echo.Context) error {
	if s.deps.Registry == nil {
		return notConfigured("the registry")
	}
	return c.JSON(http.StatusOK, s.deps.Registry.Status())
}

// postRegistryUpdate serves POST /api/database/registry/update.
func (s *Server) postRegistryUpdate(c echo.Context) error {
	var u registry.UpdateRequest
	if err := decodeJSON(c.Request().Body, &u); err != nil {
		return err
	}
	if s.deps.Registry == nil {
		return notConfigured("the registry")
	}
	out, err := s.deps.Registry.Update(c.Request().Context(), u)
	if err != nil {
		return registryError(err)
	}
	return c.JSON(http.StatusOK, out)
}

// decodeJSON decodes one JSON object from body into v, strictly: unknown
// fields and wrong types are 400s naming the field; an empty body is {}.
func decodeJSON(body io.Reader, v any) error {
	b, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mbe
		}
		return paramErr("body", "could not be read")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te) && te.Field != "":
			return paramErr(te.Field, "must be a JSON "+jsonKind(te.Type.Kind()))
		case errors.As(err, &te):
			return paramErr("body", "must be a JSON object")
		case errors.As(err, &se), errors.Is(err, io.ErrUnexpectedEOF):
			return paramErr("body", "is not valid JSON")
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return paramErr(strings.Trim(f, `"`), "is not a known field")
		}
		return paramErr("body", "is not valid JSON")
	}
	if dec.More() {
		return paramErr("body", "must hold exactly one JSON object")
	}
	return nil
}

// jsonKind names the JSON type of a Go kind for error messages.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Float32, reflect.Float64, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "number"
	}
	return "value"
}
