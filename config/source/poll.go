package source

import (
	"bytes"
	"context"
	"os"
	"time"
)

// pollFile polls TARGETS_FILE and applies each change of its content.
// Polling (stat, then read on a change of size or time) is cheap, works
// on every filesystem, and sees an atomic rename as a change.
func (s *Source) pollFile(ctx context.Context, path string) error {
	var lastMod time.Time
	var lastSize int64 = -1
	last, _ := os.ReadFile(path) // what Load read at start-up
	if st, err := os.Stat(path); err == nil {
		lastMod, lastSize = st.ModTime(), st.Size()
	}
	t := time.NewTicker(s.opts.PollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		st, err := os.Stat(path)
		if err != nil {
			continue // being replaced, or gone: keep the configuration in force
		}
		if st.ModTime().Equal(lastMod) && st.Size() == lastSize {
			continue
		}
		lastMod, lastSize = st.ModTime(), st.Size()
		b, err := os.ReadFile(path)
		if err != nil || bytes.Equal(b, last) {
			continue
		}
		last = b
		_ = s.apply(ctx, fileSet, File+path, b)
	}
}
