// Package logrec records log/slog records for tests that assert on what
// was logged.
package logrec

import (
	"context"
	"log/slog"
	"sync"
)

// Record is one logged record: its level, message and attributes (values
// resolved; groups are not kept apart).
type Record struct {
	Level   slog.Level
	Message string
	Attrs   map[string]any
}

// Recorder is a slog.Handler that keeps every record. It is safe for
// concurrent use.
type Recorder struct {
	mu      sync.Mutex
	records []Record
	attrs   []slog.Attr // of WithAttrs
	parent  *Recorder   // the one that keeps the records
}

// New returns a logger that records into the returned Recorder.
func New() (*slog.Logger, *Recorder) {
	r := &Recorder{}
	return slog.New(r), r
}

// Enabled implements slog.Handler: every level.
func (r *Recorder) Enabled(context.Context, slog.Level) bool { return true }

// Handle implements slog.Handler.
func (r *Recorder) Handle(_ context.Context, rec slog.Record) error {
	attrs := map[string]any{}
	for _, a := range r.attrs {
		attrs[a.Key] = a.Value.Resolve().Any()
	}
	rec.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Resolve().Any()
		return true
	})
	root := r.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	root.records = append(root.records, Record{Level: rec.Level, Message: rec.Message, Attrs: attrs})
	return nil
}

// WithAttrs implements slog.Handler.
func (r *Recorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &Recorder{attrs: append(append([]slog.Attr(nil), r.attrs...), as...), parent: r.root()}
}

// WithGroup implements slog.Handler (groups are flattened).
func (r *Recorder) WithGroup(string) slog.Handler { return r }

func (r *Recorder) root() *Recorder {
	if r.parent != nil {
		return r.parent
	}
	return r
}

// Records returns the records of level logged so far with message msg.
func (r *Recorder) Records(level slog.Level, msg string) []Record {
	root := r.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	var out []Record
	for _, rec := range root.records {
		if rec.Level == level && rec.Message == msg {
			out = append(out, rec)
		}
	}
	return out
}
