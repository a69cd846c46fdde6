package service

import (
	"path/filepath"

	"github.com/dbhealth/database-service/config/source"
	"github.com/dbhealth/database-service/registry"
)

// newRegistry builds this replica's Nacos registration (a disabled one
// when REGISTRY_ENABLED=false, which still serves live configuration).
func (a *Replica) newRegistry() (*registry.Registry, error) {
	cfg := a.cfg
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
		Version:     a.version,
		ReplicaID:   cfg.Service.ReplicaID,
		Roles:       roles,
		DataDir:     filepath.Join(cfg.Service.DataDir, cfg.Service.ReplicaID),
	}, a.log)
}

// nacosWatch is the watch of NACOS_CONFIG_DATA_ID, or nil without one.
func (a *Replica) nacosWatch() source.Watch {
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
