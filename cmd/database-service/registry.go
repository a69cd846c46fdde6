package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/config/source"
	"github.com/dbhealth/database-service/registry"
)

// newRegistry builds this replica's Nacos registration (a disabled one
// when REGISTRY_ENABLED=false, which still serves live configuration).
func newRegistry(cfg *config.Config, a *app) (*registry.Registry, error) {
	return registry.New(registry.Config{
		Enabled:     cfg.Registry.Enabled,
		Servers:     cfg.Nacos.Servers,
		Namespace:   cfg.Nacos.Namespace,
		Group:       cfg.Nacos.Group,
		ServiceName: cfg.Service.Name,
		Username:    cfg.Nacos.Username,
		Password:    cfg.Nacos.Password,
		IP:          cfg.Service.IP,
		Port:        cfg.Service.Port,
		Version:     version,
		ReplicaID:   cfg.Service.ReplicaID,
		Roles:       roles,
		DataDir:     filepath.Join(cfg.Service.DataDir, cfg.Service.ReplicaID),
	}, a.log)
}

// nacosWatch is the watch of NACOS_CONFIG_DATA_ID, or nil without one.
func (a *app) nacosWatch() source.Watch {
	id := a.cfg.Nacos.ConfigDataID
	if id == "" {
		return nil
	}
	w, err := a.reg.NewConfigWatch(id, a.cfg.Nacos.Group)
	if err != nil {
		// The service keeps probing and serving without it.
		a.log.Error("live configuration from Nacos unavailable", "data_id", id, "err", err)
		return nil
	}
	return w
}

// registryAPI adapts *registry.Registry to api.Registry.
type registryAPI struct{ r *registry.Registry }

func (x registryAPI) Status() any { return x.r.Status() }

func (x registryAPI) Update(ctx context.Context, u api.RegistryUpdate) (any, error) {
	st, err := x.r.Update(ctx, registry.UpdateRequest{Metadata: u.Metadata, Weight: u.Weight, Enabled: u.Enabled})
	var ve *registry.ValidationError
	switch {
	case err == nil:
		return st, nil
	case errors.As(err, &ve):
		return nil, &api.ParamError{Name: ve.Field, Reason: ve.Message}
	case errors.Is(err, registry.ErrDisabled):
		return nil, fmt.Errorf("%w: registration is off (REGISTRY_ENABLED=false)", api.ErrNotConfigured)
	}
	return nil, fmt.Errorf("%w: %w", api.ErrUnavailable, err)
}
