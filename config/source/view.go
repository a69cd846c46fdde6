package source

import (
	"sync"
	"time"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/probes"
)

// View is the configuration in force, redacted, and where it came from.
type View struct {
	// Version counts the applied configurations, from 1 at start-up.
	Version int
	// Source is what changed it last: Startup, File+path or Nacos+data id.
	Source string
	// AppliedAt is when it was applied.
	AppliedAt time.Time
	// Config is the redacted configuration, its targets those in force.
	Config config.RedactedConfig
}

// view is the versioned configuration in force; live changes replace its
// targets.
type view struct {
	mu        sync.Mutex
	cfg       *config.Config
	version   int
	source    string
	appliedAt time.Time
	// targets are the probed targets, each with the source defining it.
	targets []config.RedactedTarget
}

func newView(cfg *config.Config) *view {
	return &view{cfg: cfg, source: Startup, appliedAt: time.Now()}
}

// set records the probed set ts, where sources maps each target id to its
// source, as the next version of the configuration, changed by source.
func (v *view) set(source string, ts []probes.Target, sources map[string]string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.version++
	v.source = source
	v.appliedAt = time.Now()
	v.targets = make([]config.RedactedTarget, len(ts))
	for i, t := range ts {
		v.targets[i] = config.RedactTarget(t, sources[t.ID()])
	}
}

// View returns the configuration in force.
func (s *Source) View() View {
	v := s.view
	v.mu.Lock()
	defer v.mu.Unlock()
	red := v.cfg.Redacted()
	if v.targets != nil {
		red.Targets = v.targets
	}
	return View{Version: v.version, Source: v.source, AppliedAt: v.appliedAt, Config: red}
}
