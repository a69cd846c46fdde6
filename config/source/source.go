// Package source is the target source of a replica: the targets of the
// configuration at start-up, then every change of TARGETS_FILE (polled)
// and of the Nacos config entry NACOS_CONFIG_DATA_ID (watched), merged
// with the default targets by kind/name (config.MergeTargets) and
// emitted as whole target sets. It keeps the versioned view of the
// configuration in force that GET /api/database/config shows.
package source

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/probes"
)

// Sources of live configuration, as the view shows them.
const (
	Startup = "startup"
	File    = "file:"
	Nacos   = "nacos:"
)

// nacosStartupRead bounds the read of the Nacos config entry at start-up.
const nacosStartupRead = 5 * time.Second

// Watch is the watch of the Nacos config entry (*registry.ConfigWatch).
type Watch interface {
	// Read returns the entry's content now.
	Read(ctx context.Context) (string, error)
	// Run calls onChange with each content the server delivers until ctx
	// ends.
	Run(ctx context.Context, onChange func(content string)) error
}

// Options are a Source's dependencies.
type Options struct {
	// Watch watches NACOS_CONFIG_DATA_ID; nil without one.
	Watch Watch
	// Emit receives every target set applied after start-up.
	Emit func(ctx context.Context, ts []probes.Target)
	// EmitAlerting, when set, receives the delivery configuration (the
	// receivers) with every change applied after start-up.
	EmitAlerting func(ctx context.Context, a config.Alerting)
	// Registerer receives dbhealth_config_reloads_total.
	Registerer prometheus.Registerer
	// Logger logs applied and rejected changes.
	Logger *slog.Logger
	// PollEvery is how often TARGETS_FILE is polled; zero means a second.
	PollEvery time.Duration
}

// Source is the target source. Build it with New.
type Source struct {
	cfg     *config.Config
	opts    Options
	log     *slog.Logger
	reloads *prometheus.CounterVec
	sets    sets
	view    *view
	initial []probes.Target
	// alerting is the delivery configuration in force at start-up.
	alerting config.Alerting
}

// New reads the targets in force at start-up: the default targets, the
// TARGETS_FILE targets config.Load read and, with a watch, the Nacos
// entry's targets as read now. Nacos unreachable or an invalid entry is
// not fatal (Run applies the entry later); a target that both sources
// define differently is an error naming it.
func New(ctx context.Context, cfg *config.Config, opts Options) (*Source, error) {
	if opts.PollEvery <= 0 {
		opts.PollEvery = time.Second
	}
	s := &Source{cfg: cfg, opts: opts, log: opts.Logger, view: newView(cfg)}
	s.reloads = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "dbhealth_config_reloads_total",
		Help: "Live configuration changes, by result: applied or rejected (the previous configuration stays).",
	}, []string{"result"})
	if err := opts.Registerer.Register(s.reloads); err != nil {
		return nil, err
	}
	if path := cfg.Probe.TargetsFile; path != "" {
		s.sets.applied[fileSet] = config.TargetSet{Source: File + path, Targets: cfg.FileTargets(), Alerting: cfg.FileAlerting()}
	}
	if opts.Watch != nil {
		s.readNacos(ctx)
	}
	ts, sources, err := cfg.MergeTargets(s.sets.applied[:]...)
	if err != nil {
		return nil, fmt.Errorf("targets of TARGETS_FILE and NACOS_CONFIG_DATA_ID: %w", err)
	}
	if s.alerting, err = cfg.MergeAlerting(s.sets.applied[:]...); err != nil {
		return nil, fmt.Errorf("receivers of TARGETS_FILE and NACOS_CONFIG_DATA_ID: %w", err)
	}
	s.view.set(Startup, ts, sources)
	s.initial = ts
	return s, nil
}

// Targets is the target set in force at start-up.
func (s *Source) Targets() []probes.Target { return s.initial }

// Alerting is the delivery configuration in force at start-up.
func (s *Source) Alerting() config.Alerting { return s.alerting }

// Run polls TARGETS_FILE and watches the Nacos entry until ctx ends,
// emitting each valid change.
func (s *Source) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	if path := s.cfg.Probe.TargetsFile; path != "" {
		g.Go(func() error { return s.pollFile(gctx, path) })
	}
	if s.opts.Watch != nil {
		g.Go(func() error { return s.watchNacos(gctx) })
	}
	return g.Wait()
}

// readNacos reads the Nacos entry into the nacos set at start-up.
func (s *Source) readNacos(ctx context.Context) {
	id := s.cfg.Nacos.ConfigDataID
	rctx, cancel := context.WithTimeout(ctx, nacosStartupRead)
	defer cancel()
	content, err := s.opts.Watch.Read(rctx)
	if err != nil {
		s.log.Warn("nacos configuration not read at start-up; applied when the watch delivers it", "data_id", id, "err", err)
		return
	}
	if content == "" {
		return
	}
	s.sets.lastNacos = content
	ts, err := s.cfg.DocTargets([]byte(content))
	if err != nil {
		s.reloads.WithLabelValues("rejected").Inc()
		s.log.Error("nacos configuration rejected at start-up; starting without it", "source", Nacos+id, "err", err)
		return
	}
	al, err := config.ParseAlerting([]byte(content))
	if err != nil {
		s.reloads.WithLabelValues("rejected").Inc()
		s.log.Error("nacos configuration rejected at start-up; starting without it", "source", Nacos+id, "err", err)
		return
	}
	s.sets.applied[nacosSet] = config.TargetSet{Source: Nacos + id, Targets: ts, Alerting: al}
}

// watchNacos applies the Nacos entry (same YAML as TARGETS_FILE) on every
// change the watch delivers.
func (s *Source) watchNacos(ctx context.Context) error {
	id := s.cfg.Nacos.ConfigDataID
	return s.opts.Watch.Run(ctx, func(content string) {
		if s.seenNacos(content) {
			return
		}
		_ = s.apply(ctx, nacosSet, Nacos+id, []byte(content))
	})
}
