package main

import (
	"strconv"
	"sync"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/config"
)

// configState is the configuration in force and where it came from; live
// updates replace it.
type configState struct {
	mu        sync.Mutex
	cfg       *config.Config
	version   int
	source    string
	appliedAt time.Time
	// targets replace the start-up targets after a live change.
	targets []config.RedactedTarget
}

func newConfigState(cfg *config.Config) *configState {
	return &configState{cfg: cfg, version: 1, source: sourceStartup, appliedAt: time.Now()}
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
