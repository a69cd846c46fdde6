// Package logging builds the service's slog.Logger: text on the console in
// development and test, JSON in production, debug level on demand, and an
// optional rotated log file (lumberjack) written beside the console.
package logging

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"gopkg.in/natefinch/lumberjack.v2"
)

// Format is the log record encoding.
type Format string

// The two formats.
const (
	FormatText Format = "text"
	FormatJSON Format = "json"
)

// FormatFor returns the format for an APP_ENV value: JSON in production,
// text otherwise.
func FormatFor(appEnv string) Format {
	if appEnv == "production" {
		return FormatJSON
	}
	return FormatText
}

// Options configure New. The zero value logs text at info level to
// os.Stderr.
type Options struct {
	// Format is the encoding of every output; empty means FormatText.
	Format Format
	// Debug turns on the debug level (DEBUG=true); otherwise info.
	Debug bool
	// Level, when non-nil, is used as the handlers' level instead of one
	// derived from Debug, so the caller can change it at run time. New sets
	// it to debug or info according to Debug.
	Level *slog.LevelVar
	// Console is the console output; nil means os.Stderr.
	Console io.Writer
	// File is LOG_FILE: when set, records are also written to this file,
	// rotated by size. Its directory is created if missing.
	File string
	// MaxSizeMB is LOG_MAX_SIZE_MB, the size at which the file rotates.
	MaxSizeMB int
	// MaxBackups is LOG_MAX_BACKUPS, rotated files kept (0 keeps all).
	MaxBackups int
	// MaxAgeDays is LOG_MAX_AGE_DAYS, days rotated files are kept (0 keeps
	// them regardless of age).
	MaxAgeDays int
	// AddSource adds the caller's file:line to records.
	AddSource bool
}

// New builds the logger. The returned Closer closes the log file (a no-op
// without one); call it last, after the final log line.
func New(opts Options) (*slog.Logger, io.Closer, error) {
	format := opts.Format
	if format == "" {
		format = FormatText
	}
	if format != FormatText && format != FormatJSON {
		return nil, nil, fmt.Errorf("logging: unknown format %q", format)
	}
	if opts.MaxSizeMB < 0 || opts.MaxBackups < 0 || opts.MaxAgeDays < 0 {
		return nil, nil, errors.New("logging: rotation sizes must be >= 0")
	}
	level := opts.Level
	if level == nil {
		level = new(slog.LevelVar)
	}
	if opts.Debug {
		level.Set(slog.LevelDebug)
	} else {
		level.Set(slog.LevelInfo)
	}
	console := opts.Console
	if console == nil {
		console = os.Stderr
	}
	hopts := &slog.HandlerOptions{Level: level, AddSource: opts.AddSource}
	handler := newHandler(format, console, hopts)
	if opts.File == "" {
		return slog.New(handler), nopCloser{}, nil
	}

	// Open (and create) the file now, so a bad LOG_FILE fails at start-up
	// rather than on the first record.
	if err := os.MkdirAll(filepath.Dir(opts.File), 0o755); err != nil {
		return nil, nil, fmt.Errorf("logging: LOG_FILE: %w", err)
	}
	f, err := os.OpenFile(opts.File, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("logging: LOG_FILE: %w", err)
	}
	_ = f.Close()
	file := &lumberjack.Logger{
		Filename:   opts.File,
		MaxSize:    opts.MaxSizeMB,
		MaxBackups: opts.MaxBackups,
		MaxAge:     opts.MaxAgeDays,
	}
	handler = slog.NewMultiHandler(handler, newHandler(format, file, hopts))
	return slog.New(handler), file, nil
}

// newHandler builds one handler of the given format.
func newHandler(format Format, w io.Writer, opts *slog.HandlerOptions) slog.Handler {
	if format == FormatJSON {
		return slog.NewJSONHandler(w, opts)
	}
	return slog.NewTextHandler(w, opts)
}

// nopCloser is the Closer when there is no file.
type nopCloser struct{}

// Close does nothing.
func (nopCloser) Close() error { return nil }
