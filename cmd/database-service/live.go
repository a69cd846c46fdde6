package main

import (
	"bytes"
	"context"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/probes"
)

// Sources of live configuration, as GET /api/database/config shows them.
const (
	sourceStartup = "startup"
	sourceFile    = "file:"
	sourceNacos   = "nacos:"
)

// reloads counts live configuration changes by result (applied, rejected).
func newReloadsCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "config_reloads_total",
		Help: "Live configuration changes, by result: applied or rejected (the previous configuration stays).",
	}, []string{"result"})
	reg.MustRegister(c)
	return c
}

// applyTargetsDoc validates a targets document (the TARGETS_FILE format) as
// a whole and, when valid, makes the default targets plus its targets the
// probed set. An invalid document is rejected with a logged error naming
// the problem; the configuration in force stays.
func (a *app) applyTargetsDoc(ctx context.Context, source string, doc []byte) error {
	ts, err := a.cfg.ResolveTargets(doc)
	if err != nil {
		a.reloads.WithLabelValues("rejected").Inc()
		a.log.Error("configuration change rejected; previous configuration kept", "source", source, "err", err)
		return err
	}
	a.setTargets(ctx, ts)
	a.conf.applied(source, ts)
	a.reloads.WithLabelValues("applied").Inc()
	a.log.Info("configuration change applied", "source", source, "targets", len(ts))
	return nil
}

// watchTargetsFile polls TARGETS_FILE and applies each change of its
// content. Polling (stat, then read on a change of size or time) is cheap,
// works on every filesystem, and sees an atomic rename as a change.
func (a *app) watchTargetsFile(ctx context.Context, path string, every time.Duration) error {
	var lastMod time.Time
	var lastSize int64 = -1
	last, _ := os.ReadFile(path) // what Load read at start-up
	if st, err := os.Stat(path); err == nil {
		lastMod, lastSize = st.ModTime(), st.Size()
	}
	t := time.NewTicker(every)
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
		_ = a.applyTargetsDoc(ctx, sourceFile+path, b)
	}
}

// watchNacosConfig applies the Nacos config entry NACOS_CONFIG_DATA_ID (same
// YAML as TARGETS_FILE) on every change the SDK's listener delivers.
func (a *app) watchNacosConfig(ctx context.Context) error {
	id := a.cfg.Nacos.ConfigDataID
	err := a.reg.WatchConfig(ctx, id, a.cfg.Nacos.Group, func(content string) {
		_ = a.applyTargetsDoc(ctx, sourceNacos+id, []byte(content))
	})
	if err != nil {
		// The service keeps probing and serving on its start-up targets.
		a.log.Error("live configuration from Nacos unavailable", "data_id", id, "err", err)
	}
	return nil
}

// applied records a live change in the configuration view.
func (s *configState) applied(source string, ts []probes.Target) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version++
	s.source = source
	s.appliedAt = time.Now()
	s.targets = make([]config.RedactedTarget, len(ts))
	for i, t := range ts {
		s.targets[i] = config.RedactTarget(t, source)
	}
}
