package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
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

// The live sources of targets, in merge order.
const (
	fileSet = iota
	nacosSet
	numSets
)

// nacosStartupRead bounds the read of the Nacos config entry at start-up.
const nacosStartupRead = 5 * time.Second

// liveSets holds the targets of TARGETS_FILE and of the Nacos config entry
// NACOS_CONFIG_DATA_ID. The probed set is the default targets plus both,
// merged by kind/name (config.MergeTargets): a target defined by both
// with different settings is refused. mu serialises every apply (parse,
// merge, setTargets, view), so the two sources never interleave.
type liveSets struct {
	mu sync.Mutex
	// applied is the latest document of each source that is in force.
	applied [numSets]config.TargetSet
	// pending is a source's latest valid document refused for a conflict:
	// it is tried again with the next change of another source (which may
	// have resolved the conflict).
	pending [numSets]*config.TargetSet
	// lastNacos is the last Nacos content handled, so that the watch's
	// first delivery of what start-up read is not applied twice.
	lastNacos string
}

// reloads counts live configuration changes by result (applied, rejected).
func newReloadsCounter(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "config_reloads_total",
		Help: "Live configuration changes, by result: applied or rejected (the previous configuration stays).",
	}, []string{"result"})
	reg.MustRegister(c)
	return c
}

// startTargets is the probed set at start-up: the default targets, the
// TARGETS_FILE targets Load read and, when NACOS_CONFIG_DATA_ID is set,
// the Nacos entry's targets as read now. Nacos unreachable or an invalid
// entry is not fatal (the watch applies the entry later); a target that
// both sources define differently is a start-up error naming it.
func (a *app) startTargets(ctx context.Context) ([]probes.Target, error) {
	if path := a.cfg.Probe.TargetsFile; path != "" {
		a.sets.applied[fileSet] = config.TargetSet{Source: sourceFile + path, Targets: a.cfg.FileTargets()}
	}
	if id := a.cfg.Nacos.ConfigDataID; id != "" {
		a.startNacos(ctx, id)
	}
	ts, sources, err := a.cfg.MergeTargets(a.sets.applied[:]...)
	if err != nil {
		return nil, fmt.Errorf("targets of TARGETS_FILE and NACOS_CONFIG_DATA_ID: %w", err)
	}
	a.conf.set(sourceStartup, ts, sources)
	return ts, nil
}

// startNacos starts the watch of the Nacos entry (listening before the
// read, so a change made meanwhile is delivered) and reads the entry into
// the nacos set.
func (a *app) startNacos(ctx context.Context, id string) {
	w, err := a.reg.NewConfigWatch(id, a.cfg.Nacos.Group)
	if err != nil {
		// The service keeps probing and serving without it.
		a.log.Error("live configuration from Nacos unavailable", "data_id", id, "err", err)
		return
	}
	a.watch = w
	rctx, cancel := context.WithTimeout(ctx, nacosStartupRead)
	defer cancel()
	content, err := w.Read(rctx)
	if err != nil {
		a.log.Warn("nacos configuration not read at start-up; applied when the watch delivers it", "data_id", id, "err", err)
		return
	}
	if content == "" {
		return
	}
	a.sets.lastNacos = content
	ts, err := a.cfg.DocTargets([]byte(content))
	if err != nil {
		a.reloads.WithLabelValues("rejected").Inc()
		a.log.Error("nacos configuration rejected at start-up; starting without it", "source", sourceNacos+id, "err", err)
		return
	}
	a.sets.applied[nacosSet] = config.TargetSet{Source: sourceNacos + id, Targets: ts}
}

// applyTargetsDoc validates a targets document (the TARGETS_FILE format) of
// one source as a whole and, when valid and not in conflict with the
// other source's targets, makes the defaults plus both sources' targets
// the probed set. Otherwise the change is rejected with a logged error
// naming the problem; the configuration in force stays.
func (a *app) applyTargetsDoc(ctx context.Context, which int, source string, doc []byte) error {
	a.sets.mu.Lock()
	defer a.sets.mu.Unlock()
	a.sets.pending[which] = nil
	ts, err := a.cfg.DocTargets(doc)
	if err != nil {
		return a.reject(source, err)
	}
	set := config.TargetSet{Source: source, Targets: ts}
	alone := a.sets.applied
	alone[which] = set
	tries := [][numSets]config.TargetSet{alone}
	withPending := alone
	for i, p := range a.sets.pending {
		if p != nil {
			withPending[i] = *p
			tries = [][numSets]config.TargetSet{withPending, alone}
		}
	}
	for i, next := range tries {
		merged, sources, merr := a.cfg.MergeTargets(next[:]...)
		if err = merr; err != nil {
			continue
		}
		tookPending := i < len(tries)-1
		if tookPending { // the pending documents are in force too
			a.sets.pending = [numSets]*config.TargetSet{}
		}
		a.sets.applied = next
		a.setTargets(ctx, merged)
		a.conf.set(source, merged, sources)
		a.reloads.WithLabelValues("applied").Inc()
		a.log.Info("configuration change applied", "source", source, "targets", len(merged), "with_pending", tookPending)
		return nil
	}
	a.sets.pending[which] = &set
	return a.reject(source, err)
}

// reject counts and logs a refused change.
func (a *app) reject(source string, err error) error {
	a.reloads.WithLabelValues("rejected").Inc()
	a.log.Error("configuration change rejected; previous configuration kept", "source", source, "err", err)
	return err
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
		_ = a.applyTargetsDoc(ctx, fileSet, sourceFile+path, b)
	}
}

// watchNacosConfig applies the Nacos config entry NACOS_CONFIG_DATA_ID (same
// YAML as TARGETS_FILE) on every change the SDK's listener delivers.
func (a *app) watchNacosConfig(ctx context.Context) error {
	id := a.cfg.Nacos.ConfigDataID
	return a.watch.Run(ctx, func(content string) {
		if a.seenNacos(content) {
			return
		}
		_ = a.applyTargetsDoc(ctx, nacosSet, sourceNacos+id, []byte(content))
	})
}

// seenNacos reports whether content is the Nacos content handled last, and
// records it.
func (a *app) seenNacos(content string) bool {
	a.sets.mu.Lock()
	defer a.sets.mu.Unlock()
	seen := content == a.sets.lastNacos
	a.sets.lastNacos = content
	return seen
}
