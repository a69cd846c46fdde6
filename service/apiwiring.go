package service

import (
	"context"
	"net"
	"strconv"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/web"
)

// buildAPI builds the HTTP server over the read models and the pipeline.
func (a *Replica) buildAPI() error {
	cfg := a.cfg
	srv, err := api.New(api.Deps{
		Status:        a.store.Status(a.mgr.Targets),
		ReadModels:    a.store.Models,
		Connections:   managerConnections{a.mgr},
		Tester:        probeTester{Targets: a.mgr.Targets, TestNow: a.sched.TestNow},
		Config:        a.configInfo,
		Events:        a.live,
		Registry:      a.reg,
		Silences:      muteWrites{a.delivery},
		Maintenance:   windows{a.delivery},
		Acks:          muteWrites{a.delivery},
		Marks:         a.delivery.muter,
		Notifications: a.delivery.notes,
		Receivers:     receiverList{a.delivery},
		Ready:         a.ready,
		Self: func() api.SelfInfo {
			return api.SelfInfo{ReplicaID: cfg.Service.ReplicaID, Version: a.version, StartedAt: a.started, Roles: roles}
		},
	}, api.Options{
		Addr:            net.JoinHostPort("", strconv.Itoa(cfg.Service.Port)),
		APIToken:        cfg.Service.APIToken,
		AuthAll:         cfg.Service.APIAuth == config.AuthAll,
		MetricsPublic:   cfg.Service.MetricsPublic,
		Version:         a.version,
		ReplicaID:       cfg.Service.ReplicaID,
		Logger:          a.log.With("component", "api"),
		Registerer:      a.prom,
		Gatherer:        a.prom,
		ShutdownTimeout: cfg.Service.ShutdownTimeout,
		Secrets:         cfg.Secrets,
		Profiling:       cfg.Debug,
		UI:              web.Handler(),
		// A replica serves without the bus (the coordinator's record in the
		// store tells the states); without the store it cannot.
		ReadyRequires: []string{"store"},
	})
	if err != nil {
		return err
	}
	a.api = srv
	return nil
}

// configInfo is GET /api/database/config.
func (a *Replica) configInfo() api.ConfigInfo {
	v := a.targets.View()
	return api.ConfigInfo{AppEnv: a.cfg.AppEnv, Version: strconv.Itoa(v.Version), Source: v.Source, AppliedAt: v.AppliedAt, Config: v.Config}
}

// ready checks the bus and the store for GET /health and GET /ready.
func (a *Replica) ready(ctx context.Context) map[string]error {
	return map[string]error{"bus": a.bus.Check(ctx), "store": a.store.Ping(ctx)}
}
