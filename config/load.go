package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/caarlos0/env/v11"
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
	bad, errs := parseEnv(cfg, l.merged)

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
