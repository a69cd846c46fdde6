package mute

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"
)

// DefaultRefresh is how old a Muter's snapshot of the store may grow
// before Marks reads the store again.
const DefaultRefresh = 2 * time.Second

// Marks say why an alert is not notified.
type Marks struct {
	// SilencedBy are the ids of the active silences that match, sorted.
	SilencedBy []string `json:"silenced_by,omitempty"`
	// Maintenance is the name (or id) of an open window that matches.
	Maintenance string `json:"maintenance,omitempty"`
	// AckedBy is who acknowledged the alert.
	AckedBy string `json:"acked_by,omitempty"`
}

// Muted reports whether the alert is silenced or in maintenance. Acks do
// not mute the first notification; they stop reminders.
func (m Marks) Muted() bool { return len(m.SilencedBy) > 0 || m.Maintenance != "" }

// compiledSilence is a valid silence ready to be matched.
type compiledSilence struct {
	s  Silence
	ms matchers
}

// snapshot is what the Muter read from the store.
type snapshot struct {
	silences []compiledSilence
	windows  []*compiledWindow
	acks     map[string]Ack
	at       time.Time // zero: never read
}

// Muter answers from a cached snapshot of the store plus the configured
// windows, refreshed when older than the refresh interval
// (DefaultRefresh) and on demand. Invalid records are skipped. It is safe
// for concurrent use.
type Muter struct {
	store Store
	now   func() time.Time

	refreshMu sync.Mutex // one store read at a time
	mu        sync.RWMutex
	every     time.Duration
	snap      snapshot
	config    []*compiledWindow
}

// NewMuter returns a Muter over store and the windows of the targets
// file; now is the clock (time.Now when nil).
func NewMuter(store Store, configured []Window, now func() time.Time) *Muter {
	if now == nil {
		now = time.Now
	}
	m := &Muter{store: store, now: now, every: DefaultRefresh}
	m.SetConfigured(configured)
	return m
}

// SetInterval sets how old the snapshot may grow (DefaultRefresh when
// d <= 0).
func (m *Muter) SetInterval(d time.Duration) {
	if d <= 0 {
		d = DefaultRefresh
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.every = d
}

// SetConfigured replaces the windows of the targets file (live reload);
// invalid ones are skipped (ParseWindowsYAML rejects them first).
func (m *Muter) SetConfigured(ws []Window) {
	cs := compileWindows(ws)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.config = cs
}

// Refresh reads the store into a new snapshot. On error the previous
// snapshot stays.
func (m *Muter) Refresh(ctx context.Context) error {
	m.refreshMu.Lock()
	defer m.refreshMu.Unlock()
	return m.refresh(ctx)
}

func (m *Muter) refresh(ctx context.Context) error {
	at := m.now()
	ss, err := m.store.Silences(ctx)
	if err != nil {
		return fmt.Errorf("mute: refresh: %w", err)
	}
	ws, err := m.store.Windows(ctx)
	if err != nil {
		return fmt.Errorf("mute: refresh: %w", err)
	}
	acks, err := m.store.Acks(ctx)
	if err != nil {
		return fmt.Errorf("mute: refresh: %w", err)
	}
	snap := snapshot{windows: compileWindows(ws), acks: acks, at: at}
	for _, s := range ss {
		if !s.EndsAt.After(at) {
			continue // expired for good
		}
		if ms, err := compileMatchers(s.Matchers); err == nil && len(ms) > 0 {
			snap.silences = append(snap.silences, compiledSilence{s: s, ms: ms})
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.snap = snap
	return nil
}

// Marks says why the alert of s is not notified, from the snapshot,
// refreshing it first when it is older than the refresh interval. When
// that refresh fails it returns the error together with the marks of the
// previous snapshot, so the caller may choose to go on.
func (m *Muter) Marks(ctx context.Context, s Subject) (Marks, error) {
	now := m.now()
	var err error
	if m.stale(now) {
		m.refreshMu.Lock()
		if m.stale(now) {
			err = m.refresh(ctx)
		}
		m.refreshMu.Unlock()
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.marks(now, s), err
}

// stale reports whether the snapshot is older than the interval at now.
func (m *Muter) stale(now time.Time) bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.snap.at.IsZero() || now.Sub(m.snap.at) >= m.every || now.Before(m.snap.at)
}

// marks evaluates the snapshot; m.mu is held.
func (m *Muter) marks(now time.Time, s Subject) Marks {
	var mk Marks
	for _, c := range m.snap.silences {
		if c.s.ActiveAt(now) && c.ms.match(s) {
			mk.SilencedBy = append(mk.SilencedBy, c.s.ID)
		}
	}
	slices.Sort(mk.SilencedBy)
	for _, ws := range [][]*compiledWindow{m.config, m.snap.windows} {
		for _, w := range ws {
			if mk.Maintenance == "" && w.ms.match(s) && w.open(now) {
				mk.Maintenance = w.w.label()
			}
		}
	}
	if a, ok := m.snap.acks[s.AlertID]; ok && s.AlertID != "" {
		mk.AckedBy = a.By
		if mk.AckedBy == "" {
			mk.AckedBy = "unknown"
		}
	}
	return mk
}

// compileWindows compiles the valid windows of ws.
func compileWindows(ws []Window) []*compiledWindow {
	out := make([]*compiledWindow, 0, len(ws))
	for _, w := range ws {
		if c, err := w.compile(); err == nil {
			out = append(out, c)
		}
	}
	return out
}
