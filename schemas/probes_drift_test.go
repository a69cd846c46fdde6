package schemas_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dbhealth/database-service/events"
)

// probeConsts reads, from the source of the package in dir (without
// importing it: probes brings its database drivers), the string constants
// declared with each of the named types.
func probeConsts(t *testing.T, dir string, types ...string) map[string][]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	out := map[string][]string{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				id, ok := vs.Type.(*ast.Ident)
				if !ok || !slices.Contains(types, id.Name) {
					continue
				}
				for _, v := range vs.Values {
					lit, ok := v.(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Fatalf("%s: const of type %s is not a string literal", name, id.Name)
					}
					s, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					out[id.Name] = append(out[id.Name], s)
				}
			}
		}
	}
	return out
}

// enum returns the enum of a $defs entry of the schema of typ, sorted.
func enum(t *testing.T, typ, def string) []string {
	t.Helper()
	var out []string
	for _, v := range at(loadSchema(t, typ), "$defs", def, "enum").([]any) {
		out = append(out, v.(string))
	}
	slices.Sort(out)
	return out
}

// TestEnumsMatchProbes keeps the schemas' enums equal to the kinds, states
// and error kinds package probes can produce.
func TestEnumsMatchProbes(t *testing.T) {
	consts := probeConsts(t, "../events", "Kind", "State") // the vocabulary probes aliases
	consts["ErrorKind"] = probeConsts(t, "../probes", "ErrorKind")["ErrorKind"]
	sorted := func(s []string, drop ...string) []string {
		s = slices.DeleteFunc(slices.Clone(s), func(v string) bool { return slices.Contains(drop, v) })
		slices.Sort(s)
		return s
	}
	tests := []struct {
		def  string
		want []string
	}{
		{"targetType", sorted(consts["Kind"])},
		{"state", sorted(consts["State"], "UNKNOWN")},
		{"errorKind", sorted(consts["ErrorKind"], "")},
	}
	for _, typ := range events.Types {
		for _, tt := range tests {
			if len(tt.want) == 0 {
				t.Fatalf("no %s constants found in probes", tt.def)
			}
			if got := enum(t, typ, tt.def); !slices.Equal(got, tt.want) {
				t.Errorf("%s: $defs/%s enum %q, probes has %q", typ, tt.def, got, tt.want)
			}
		}
	}
	if got, want := enum(t, events.TypeStateChanged, "fromState"), sorted(consts["State"]); !slices.Equal(got, want) {
		t.Errorf("$defs/fromState enum %q, probes has %q", got, want)
	}
}
