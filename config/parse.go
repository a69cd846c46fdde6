package config

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// parseEnv parses environ into cfg. Every value that does not parse is
// reported, by the variable's name, in errs; bad tells later checks which
// variables hold the zero value a failure left.
func parseEnv(cfg *Config, environ map[string]string) (bad *parseFailures, errs []error) {
	bad = &parseFailures{}
	perr := env.ParseWithOptions(cfg, env.Options{
		Environment: environ,
		OnSet:       func(key string, _ any, _ bool) { bad.current = key },
		FuncMap:     bad.parsers(),
	})
	errs = bad.errors()
	if perr == nil {
		return bad, errs
	}
	var agg env.AggregateError
	if !errors.As(perr, &agg) {
		agg.Errors = []error{perr}
	}
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) && len(bad.failed) > 0 {
			continue // reported by bad.errors with the variable's name
		}
		errs = append(errs, fmt.Errorf("%w: %s", ErrInvalid, e.Error()))
	}
	return bad, errs
}

// parseFailures turns caarlos0/env's parse errors, which name the Go field
// and echo Go syntax errors, into FieldErrors that name the variable. env
// calls OnSet with the variable's key right before parsing its value, so
// the parsers below know which variable they are parsing.
type parseFailures struct {
	current string
	failed  []failure
}

// failure is one value that could not be parsed.
type failure struct {
	key, value, want string
}

// parsers are the FuncMap entries for every non-string type of Config.
func (p *parseFailures) parsers() map[reflect.Type]env.ParserFunc {
	fail := func(v, want string, err error) (any, error) {
		p.failed = append(p.failed, failure{key: p.current, value: v, want: want})
		return nil, err
	}
	return map[reflect.Type]env.ParserFunc{
		reflect.TypeFor[int](): func(v string) (any, error) {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return fail(v, "", err)
			}
			return n, nil
		},
		reflect.TypeFor[bool](): func(v string) (any, error) {
			b, err := strconv.ParseBool(strings.TrimSpace(v))
			if err != nil {
				return fail(v, "must be true or false", err)
			}
			return b, nil
		},
		reflect.TypeFor[time.Duration](): func(v string) (any, error) {
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil {
				return fail(v, "must be a duration such as 500ms, 30s, 5m or 168h", err)
			}
			return d, nil
		},
	}
}

// failedKey reports whether key's value failed to parse.
func (p *parseFailures) failedKey(key string) bool {
	for _, f := range p.failed {
		if f.key == key {
			return true
		}
	}
	return false
}

// errors returns one FieldError per failed variable.
func (p *parseFailures) errors() []error {
	var out []error
	for _, f := range p.failed {
		want := f.want
		if want == "" {
			want = intRule(f.key)
		}
		out = append(out, fieldErr(f.key, "%s, got %q", want, truncate(f.value, 64)))
	}
	return out
}
