// Package schemas embeds the machine-readable contracts of database-service:
// one JSON Schema (draft 2020-12) per event version, describing the whole
// CloudEvents message, under events/<type>.json; the AsyncAPI 3.0 document
// of the db.health exchange (asyncapi.yaml); and any other *.yaml document
// at the top of the directory (the OpenAPI description of the REST API).
package schemas

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
)

// FS holds every schema file, at the paths of this directory:
// "asyncapi.yaml", "events/db.health.checked.v1.json", ...
//
//go:embed *.yaml events/*.json
var FS embed.FS

// AsyncAPIFile is the path of the AsyncAPI document in FS.
const AsyncAPIFile = "asyncapi.yaml"

//go:embed asyncapi.yaml
var asyncAPI []byte

// OpenAPIFile is the path of the OpenAPI 3.1 document of the REST API in FS.
const OpenAPIFile = "openapi.yaml"

//go:embed openapi.yaml
var openAPI []byte

// OpenAPI returns a copy of the OpenAPI 3.1 document (YAML) describing the
// REST API.
func OpenAPI() []byte { return bytes.Clone(openAPI) }

// eventsDir is the directory of the event schemas in FS.
const eventsDir = "events"

// AsyncAPI returns a copy of the AsyncAPI 3.0 document (YAML) describing the
// db.health exchange, its routing keys and messages.
func AsyncAPI() []byte { return bytes.Clone(asyncAPI) }

// EventSchemaPath is the path in FS of the JSON Schema of eventType
// (which need not exist): "events/<eventType>.json".
func EventSchemaPath(eventType string) string {
	return path.Join(eventsDir, eventType+".json")
}

// EventTypes lists, sorted, the event types that have a schema.
func EventTypes() []string {
	entries, err := fs.ReadDir(FS, eventsDir)
	if err != nil {
		return nil
	}
	var types []string
	for _, e := range entries {
		if t, ok := strings.CutSuffix(e.Name(), ".json"); ok && !e.IsDir() {
			types = append(types, t)
		}
	}
	slices.Sort(types)
	return types
}

// EventSchema returns the JSON Schema of eventType (the CloudEvents `type`,
// e.g. "db.health.checked.v1"), or an error wrapping ErrUnknownType.
func EventSchema(eventType string) ([]byte, error) {
	if !slices.Contains(EventTypes(), eventType) {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, eventType)
	}
	return FS.ReadFile(EventSchemaPath(eventType))
}
