package stores

import (
	"context"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
)

// Status is the status the API serves in shared mode: the read model,
// brought up to the coordinator's decisions for the configured targets
// (projections.Overlay), so that a bus outage does not freeze the states
// the API shows.
type Status struct {
	models  ReadModels
	decided func(ctx context.Context, ts []probes.Target) ([]projections.Decided, error)
	targets func() []probes.Target
}

// StatusReader reads the current status of every target.
type StatusReader interface {
	Statuses(ctx context.Context) ([]projections.TargetStatus, error)
}

// Status reads the status of targets: overlaid in shared mode, the read
// model as it is when embedded.
func (s *Store) Status(targets func() []probes.Target) StatusReader {
	if s.Decided == nil {
		return s.Models
	}
	return Status{models: s.Models, decided: s.Decided, targets: targets}
}

// Statuses is the read model overlaid with the coordinator's decisions.
func (l Status) Statuses(ctx context.Context) ([]projections.TargetStatus, error) {
	st, err := l.models.Statuses(ctx)
	if err != nil {
		return nil, err
	}
	d, err := l.decided(ctx, l.targets())
	if err != nil {
		return nil, err
	}
	return projections.Overlay(st, d), nil
}
