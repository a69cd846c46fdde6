package api

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	specui "github.com/oaswrap/spec-ui"
	"github.com/oaswrap/spec-ui/redocemb"
	"github.com/oaswrap/spec-ui/swaggeruiemb"
	"gopkg.in/yaml.v3"

	"github.com/dbhealth/database-service/schemas"
)

// Paths of the documentation routes.
const (
	pathOpenAPI     = "/openapi.json"
	pathSwagger     = "/docs"
	pathSwaggerLibs = "/docs/_assets"
	pathRedoc       = "/redoc"
	pathRedocLibs   = "/redoc/_assets"
)

// docs serves the OpenAPI document and the two documentation UIs, whose
// assets (Swagger UI 5, ReDoc 2) are embedded in the binary by the
// github.com/oaswrap/spec-ui module: nothing is loaded from a CDN.
type docs struct {
	specJSON    []byte
	swaggerPage http.Handler
	swaggerLibs http.Handler
	redocPage   []byte
	redocLibs   http.Handler
}

func newDocs() (*docs, error) {
	spec, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	swagger := specui.NewHandler(
		specui.WithTitle("database-service API"),
		specui.WithDocsPath(pathSwagger),
		specui.WithSpecPath(pathOpenAPI),
		specui.WithAssetsPath(pathSwaggerLibs),
		swaggeruiemb.WithUI(),
	)
	redoc := specui.NewHandler(
		specui.WithDocsPath(pathRedoc),
		specui.WithSpecPath(pathOpenAPI),
		specui.WithAssetsPath(pathRedocLibs),
		redocemb.WithUI(),
	)
	var page strings.Builder
	if err := redocTemplate.Execute(&page, map[string]string{
		"Title": "database-service API", "Script": pathRedocLibs + "/redoc.standalone.js", "Spec": pathOpenAPI,
	}); err != nil {
		return nil, err
	}
	return &docs{
		specJSON:    spec,
		swaggerPage: swagger.Docs(),
		swaggerLibs: swagger.Assets(),
		redocPage:   []byte(page.String()),
		redocLibs:   redoc.Assets(),
	}, nil
}

// redocTemplate is the ReDoc page: the embedded standalone bundle and no
// web fonts, so it renders offline.
var redocTemplate = template.Must(template.New("redoc").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} - ReDoc</title>
<style>body { margin: 0; padding: 0; }</style>
</head>
<body>
<div id="redoc-container"></div>
<script src="{{.Script}}"></script>
<script>
Redoc.init({{.Spec}}, { expandResponses: "200", hideDownloadButton: false }, document.getElementById("redoc-container"));
</script>
</body>
</html>
`))

// openAPIJSON converts schemas/openapi.yaml to JSON.
func openAPIJSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(schemas.OpenAPI(), &doc); err != nil {
		return nil, fmt.Errorf("api: openapi.yaml: %w", err)
	}
	doc, err := jsonable(doc)
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
}

// jsonable turns YAML maps with non-string keys into JSON objects.
func jsonable(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			t[k] = j
		}
		return t, nil
	case map[any]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			m[fmt.Sprint(k)] = j
		}
		return m, nil
	case []any:
		for i, e := range t {
			j, err := jsonable(e)
			if err != nil {
				return nil, err
			}
			t[i] = j
		}
		return t, nil
	}
	return v, nil
}

func (d *docs) openAPI(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, d.specJSON)
}

func (d *docs) swagger(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	d.swaggerPage.ServeHTTP(c.Response(), c.Request())
	return nil
}

func (d *docs) redoc(c echo.Context) error {
	return c.HTMLBlob(http.StatusOK, d.redocPage)
}

// assets serves one embedded file (no directory listings); a missing one
// is a 404 in the one error shape.
func assets(h http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.Param("*")
		if name == "" || strings.HasSuffix(name, "/") {
			return echo.ErrNotFound
		}
		w := &notFoundCatcher{ResponseWriter: c.Response()}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, c.Request())
		if w.notFound {
			w.Header().Del("Cache-Control")
			return echo.ErrNotFound
		}
		return nil
	}
}

// notFoundCatcher swallows a 404 answer so the error handler can write it.
type notFoundCatcher struct {
	http.ResponseWriter
	notFound bool
}

func (w *notFoundCatcher) WriteHeader(code int) {
	if code == http.StatusNotFound {
		w.notFound = true
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *notFoundCatcher) Write(b []byte) (int, error) {
	if w.notFound {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}
