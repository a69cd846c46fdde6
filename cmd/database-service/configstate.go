package main

import (
	"strconv"
	"sync"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/probes"
)

// configState is the configuration in force and where it came from; live
// updates replace its targets.
type configState struct {
	mu        sync.Mutex
	cfg       *config.Config
	version   int
	source    string
	appliedAt time.Time
	// targets are the probed targets, each with the source defining it.
	targets []config.RedactedTarget
}

func newConfigState(cfg *config.Config) *configState {
	return &configState{cfg: cfg, source: sourceStartup, appliedAt: time.Now()}
}

// set records the probed set ts, where sources maps each target id to its
// source, as the next version of the configuration, changed by source.
func (s *configState) set(source string, ts []probes.Target, sources map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	s.source = source
	s.appliedAt = time.Now()
	s.targets = make([]config.RedactedTarget, len(ts))
	for i, t := range ts {
		s.targets[i] = config.RedactTarget(t, sources[t.ID()])
	}
}

// info is what GET /api/database/config shows.
func (s *configState) info() api.ConfigInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	red := s.cfg.Redacted()
	if s.targets != nil {
		red.Targets = s.targets
	}
	return api.ConfigInfo{
		AppEnv:    s.cfg.AppEnv,
		Version:   strconv.Itoa(s.version),
		Source:    s.source,
		AppliedAt: s.appliedAt,
		Config:    red,
	}
}
