package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/dbhealth/database-service/probes"
)

// Where a value came from, as reported by Sources. The env files are
// reported by their path relative to the working directory
// ("config/production.env", ".env").
const (
	SourceDefault     = "default"
	SourceEnvironment = "environment"
	SourceDotenv      = ".env"
	SourceTargetsFile = "targets file"
)

// LoadOptions are the inputs of Load. Tests set both fields so that nothing
// is read from the process.
type LoadOptions struct {
	// Environ is the process environment. Nil means os.Environ().
	Environ map[string]string
	// Dir is the working directory: config/<APP_ENV>.env, .env and relative
	// paths (TARGETS_FILE, LOG_FILE, DATA_DIR) are resolved against it.
	// Empty means os.Getwd().
	Dir string
}

// Load reads, merges and validates the configuration. Missing env files are
// skipped (Files lists those read); a malformed one is an error. Every
// problem found is reported at once (errors.Join of *FieldError and file
// errors), each naming the variable; errors.Is(err, ErrInvalid) holds.
func Load(opts LoadOptions) (*Config, error) {
	environ := opts.Environ
	if environ == nil {
		environ = env.ToMap(os.Environ())
	}
	dir := opts.Dir
	if dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("config: working directory: %w", err)
		}
		dir = wd
	}

	l := &loader{dir: dir, merged: map[string]string{}, origin: map[string]string{}}
	if err := l.layer(environ); err != nil {
		return nil, err
	}

	cfg := &Config{}
	params, err := env.GetFieldParams(cfg)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	bad := &parseFailures{}
	perr := env.ParseWithOptions(cfg, env.Options{
		Environment: l.merged,
		OnSet:       func(key string, _ any, _ bool) { bad.current = key },
		FuncMap:     bad.parsers(),
	})
	errs := bad.errors()
	if perr != nil {
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
	}

	cfg.loaded = &loadState{files: l.files, warnings: l.unknownKeys(params), sources: l.sources(params)}
	cfg.normalize(dir)
	if cfg.AppEnv == EnvProduction && !cfg.Service.APIToken.IsSet() {
		cfg.loaded.warnings = append(cfg.loaded.warnings,
			"APP_ENV=production without API_TOKEN: the API's write routes are open to anyone who can reach the port")
	}
	if err := liftURLCredentials("ELASTICSEARCH_HOSTS", "ELASTICSEARCH_USERNAME", "ELASTICSEARCH_PASSWORD",
		cfg.Elasticsearch.Hosts, &cfg.Elasticsearch.Username, &cfg.Elasticsearch.Password); err != nil {
		errs = append(errs, err)
	}
	for _, e := range cfg.validate() {
		var fe *FieldError
		if errors.As(e, &fe) && bad.failedKey(fe.Var) {
			continue // zero value left by a parse failure already reported
		}
		errs = append(errs, e)
	}
	if len(errs) == 0 && cfg.Probe.TargetsFile != "" {
		errs = append(errs, cfg.loadTargetsFile()...)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// loader merges env files and the environment, remembering where each key
// came from.
type loader struct {
	dir    string
	merged map[string]string
	origin map[string]string
	files  []string
	// fileKeys lists keys assigned by env files, for the unknown-key warning.
	fileKeys []fileKey
}

// fileKey is a key assigned in an env file.
type fileKey struct {
	file string
	line int
	key  string
}

// layer applies config/<APP_ENV>.env, then .env, then environ.
func (l *loader) layer(environ map[string]string) error {
	dotenv, err := l.read(SourceDotenv)
	if err != nil {
		return err
	}
	appEnv, src := EnvDevelopment, SourceDefault
	if v, ok := lookup(dotenv, "APP_ENV"); ok && v != "" {
		appEnv, src = v, SourceDotenv
	}
	if v, ok := environ["APP_ENV"]; ok && v != "" {
		appEnv, src = v, SourceEnvironment
	}
	if !validAppEnv(appEnv) {
		return fieldErr("APP_ENV", "must be one of development, test, production, got %q", truncate(appEnv, 64))
	}
	envFile := filepath.ToSlash(filepath.Join("config", appEnv+".env"))
	base, err := l.read(envFile)
	if err != nil {
		return err
	}
	l.apply(envFile, base)
	l.apply(SourceDotenv, dotenv)
	for k, v := range environ {
		l.merged[k] = v
		l.origin[k] = SourceEnvironment
	}
	l.merged["APP_ENV"] = appEnv
	l.origin["APP_ENV"] = src
	return nil
}

// read parses the env file at rel (relative to dir); a missing file yields
// no entries.
func (l *loader) read(rel string) ([]EnvEntry, error) {
	data, err := os.ReadFile(filepath.Join(l.dir, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, rel, err)
	}
	entries, err := ParseDotenv(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalid, rel, err)
	}
	l.files = append(l.files, rel)
	for _, e := range entries {
		l.fileKeys = append(l.fileKeys, fileKey{file: rel, line: e.Line, key: e.Key})
	}
	return entries, nil
}

// apply layers entries from file over what is merged so far.
func (l *loader) apply(file string, entries []EnvEntry) {
	for _, e := range entries {
		l.merged[e.Key] = e.Value
		l.origin[e.Key] = file
	}
}

// sources reports, for every known variable, where its effective value
// came from. An empty value for a variable with a default means the default.
func (l *loader) sources(params []env.FieldParams) map[string]string {
	out := make(map[string]string, len(params))
	for _, p := range params {
		v, ok := l.merged[p.Key]
		switch {
		case !ok, v == "" && p.HasDefaultValue:
			out[p.Key] = SourceDefault
		default:
			out[p.Key] = l.origin[p.Key]
		}
	}
	return out
}

// unknownKeys warns about env-file keys that are not configuration
// variables (usually a typo).
func (l *loader) unknownKeys(params []env.FieldParams) []string {
	known := make(map[string]bool, len(params))
	for _, p := range params {
		known[p.Key] = true
	}
	var out []string
	for _, fk := range l.fileKeys {
		if !known[fk.key] {
			out = append(out, fmt.Sprintf("%s:%d: unknown variable %s ignored", fk.file, fk.line, fk.key))
		}
	}
	return out
}

// lookup returns the last value of key in entries.
func lookup(entries []EnvEntry, key string) (string, bool) {
	v, ok := "", false
	for _, e := range entries {
		if e.Key == key {
			v, ok = e.Value, true
		}
	}
	return v, ok
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

// normalize trims lists, resolves relative paths against dir and fills the
// computed defaults (REPLICA_ID, DATA_DIR).
func (c *Config) normalize(dir string) {
	c.Elasticsearch.Hosts = trimList(c.Elasticsearch.Hosts)
	c.Nacos.Servers = trimList(c.Nacos.Servers)
	for i, s := range c.Nacos.Servers {
		c.Nacos.Servers[i] = withDefaultPort(s, defaultPorts[probes.Nacos])
	}
	c.Service.ReplicaID = strings.TrimSpace(c.Service.ReplicaID)
	if c.Service.ReplicaID == "" {
		c.Service.ReplicaID = defaultReplicaID()
	}
	if c.Service.DataDir == "" {
		c.Service.DataDir = filepath.Join(os.TempDir(), "database-service")
	}
	c.Service.DataDir = absolute(dir, c.Service.DataDir)
	c.Probe.TargetsFile = absolute(dir, c.Probe.TargetsFile)
	c.Log.File = absolute(dir, c.Log.File)
	c.normalizeTLS(dir)
}

// withDefaultPort appends port to a "host" without one; "host:port" and
// anything unparsable are returned as they are (validation reports them).
func withDefaultPort(hostport string, port int) string {
	if strings.Contains(hostport, "://") {
		return hostport
	}
	_, _, err := net.SplitHostPort(hostport)
	if err != nil && strings.Contains(err.Error(), "missing port") && strings.Count(hostport, ":") == 0 {
		return net.JoinHostPort(hostport, strconv.Itoa(port))
	}
	if err != nil && strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		return net.JoinHostPort(strings.Trim(hostport, "[]"), strconv.Itoa(port))
	}
	return hostport
}

// absolute resolves a non-empty relative path against dir.
func absolute(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// trimList trims every entry and drops empty ones.
func trimList(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// defaultReplicaID is "<hostname>-<pid>-<6 random hex digits>".
func defaultReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "replica"
	}
	host = strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '-'
	}, host)
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Sources maps every configuration variable (and "targets/<kind>/<name>" for
// each TARGETS_FILE target) to where its effective value came from:
// SourceDefault, "config/<APP_ENV>.env", SourceDotenv, SourceEnvironment or
// SourceTargetsFile. The map is a copy.
func (c *Config) Sources() map[string]string {
	src := c.state().sources
	out := make(map[string]string, len(src))
	for k, v := range src {
		out[k] = v
	}
	return out
}

// Files lists the env files that were read, relative to the working
// directory, in the order they were applied (later wins).
func (c *Config) Files() []string { return append([]string(nil), c.state().files...) }

// Warnings lists non-fatal findings worth logging at start-up, such as
// unknown variables in env files (usually typos).
func (c *Config) Warnings() []string { return append([]string(nil), c.state().warnings...) }

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
