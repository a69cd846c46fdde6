package mute

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Sources of a window.
const (
	SourceConfig = "config"
	SourceAPI    = "api"
)

// Window is a maintenance window: while it is open the alerts its
// matchers match are not notified. A one-off window is open over
// [StartsAt, EndsAt), or [StartsAt, StartsAt+Duration) when EndsAt is
// unset. A recurring window has a Cron schedule in TimeZone; each firing
// opens it for Duration, and StartsAt and EndsAt, when set, bound the
// time it recurs over. Across a DST change the schedule follows
// robfig/cron: a firing at a local time that does not exist that day
// (02:30 when clocks go from 02:00 to 03:00) is skipped, one at a time
// that happens twice fires twice.
//
// In JSON and YAML Duration is a Go duration string ("1h30m") under
// "duration".
type Window struct {
	ID   string `json:"id" yaml:"-"`
	Name string `json:"name" yaml:"name"`
	// Matchers select the targets; empty selects every target.
	Matchers []Matcher `json:"matchers" yaml:"matchers,omitempty"`
	StartsAt time.Time `json:"starts_at,omitzero" yaml:"starts_at,omitempty"`
	EndsAt   time.Time `json:"ends_at,omitzero" yaml:"ends_at,omitempty"`
	// Cron is a standard 5-field cron expression (or a descriptor such as
	// @daily), in TimeZone.
	Cron     string        `json:"cron,omitempty" yaml:"cron,omitempty"`
	Duration time.Duration `json:"-" yaml:"-"`
	// TimeZone is an IANA name; empty means UTC.
	TimeZone  string `json:"time_zone,omitempty" yaml:"time_zone,omitempty"`
	CreatedBy string `json:"created_by,omitempty" yaml:"created_by,omitempty"`
	Comment   string `json:"comment,omitempty" yaml:"comment,omitempty"`
	// Source is "config" (the targets file) or "api".
	Source string `json:"source" yaml:"-"`
}

// cronParser parses standard 5-field expressions and descriptors.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// openFunc reports whether a compiled window is open at now.
type openFunc func(now time.Time) bool

// compiledWindow is a validated window ready to be evaluated.
type compiledWindow struct {
	w    Window
	ms   matchers
	open openFunc
}

// Validate checks the window; the error is a *FieldError naming one of
// matchers[i].name, matchers[i].value, cron, duration, time_zone,
// starts_at, ends_at or source.
func (w Window) Validate() error {
	_, err := w.compile()
	return err
}

// ActiveAt reports whether the window is open at now; an invalid window
// never is.
func (w Window) ActiveAt(now time.Time) bool {
	c, err := w.compile()
	return err == nil && c.open(now)
}

// label is how Marks name the window: its name, else its id.
func (w Window) label() string {
	if w.Name != "" {
		return w.Name
	}
	return w.ID
}

func (w Window) compile() (*compiledWindow, error) {
	ms, err := compileMatchers(w.Matchers)
	if err != nil {
		return nil, err
	}
	if w.Source != "" && w.Source != SourceConfig && w.Source != SourceAPI {
		return nil, fieldErr("source", fmt.Sprintf("unknown source %q (want config or api)", w.Source))
	}
	loc := time.UTC
	if w.TimeZone != "" {
		if w.TimeZone == "Local" {
			return nil, fieldErr("time_zone", `"Local" is not an IANA time zone name`)
		}
		if loc, err = time.LoadLocation(w.TimeZone); err != nil {
			return nil, fieldErr("time_zone", fmt.Sprintf("unknown time zone %q", w.TimeZone))
		}
	}
	c := &compiledWindow{w: w, ms: ms}
	if w.Cron == "" {
		c.open, err = w.oneOff()
	} else {
		c.open, err = w.recurring(loc)
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// oneOff is open over [StartsAt, end).
func (w Window) oneOff() (openFunc, error) {
	if w.StartsAt.IsZero() {
		return nil, fieldErr("starts_at", "required without cron")
	}
	end := w.EndsAt
	if end.IsZero() {
		if w.Duration <= 0 {
			return nil, fieldErr("duration", "ends_at or a positive duration is required")
		}
		end = w.StartsAt.Add(w.Duration)
	}
	if !end.After(w.StartsAt) {
		return nil, fieldErr("ends_at", "must be after starts_at")
	}
	start := w.StartsAt
	return func(now time.Time) bool { return !now.Before(start) && now.Before(end) }, nil
}

// recurring is open when a firing t has t <= now < t+Duration: the first
// firing after now-Duration is at or before now.
func (w Window) recurring(loc *time.Location) (openFunc, error) {
	spec := strings.TrimSpace(w.Cron)
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		return nil, fieldErr("cron", "set the time zone in time_zone, not in cron")
	}
	if strings.HasPrefix(spec, "@every") {
		return nil, fieldErr("cron", "@every is not supported (use a schedule of times)")
	}
	sched, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fieldErr("cron", fmt.Sprintf("bad cron expression %q: %v", w.Cron, err))
	}
	if w.Duration <= 0 {
		return nil, fieldErr("duration", "a positive duration is required with cron")
	}
	if !w.EndsAt.IsZero() && !w.EndsAt.After(w.StartsAt) {
		return nil, fieldErr("ends_at", "must be after starts_at")
	}
	d, from, until := w.Duration, w.StartsAt, w.EndsAt
	return func(now time.Time) bool {
		if now.Before(from) || (!until.IsZero() && !now.Before(until)) {
			return false
		}
		t := sched.Next(now.Add(-d).In(loc))
		return !t.IsZero() && !t.After(now)
	}, nil
}
