package source_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/config/source"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// fakeWatch is a Nacos entry whose changes the test delivers.
type fakeWatch struct {
	initial string
	changes chan string
}

func (w *fakeWatch) Read(context.Context) (string, error) { return w.initial, nil }

func (w *fakeWatch) Run(ctx context.Context, onChange func(string)) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case c := <-w.changes:
			onChange(c)
		}
	}
}

// emitted records the emitted target sets.
type emitted struct {
	mu   sync.Mutex
	sets [][]string
}

func (e *emitted) emit(_ context.Context, ts []probes.Target) {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID()
	}
	slices.Sort(ids)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.sets = append(e.sets, ids)
}

func (e *emitted) last() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.sets) == 0 {
		return nil
	}
	return e.sets[len(e.sets)-1]
}

func ids(ts []probes.Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.ID()
	}
	slices.Sort(out)
	return out
}

func TestFileAndNacosMergedAndConflictsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "targets.yaml")
	const shared = "  - {name: shared, type: postgres, host: 127.0.0.1}\n"
	write := func(doc string) {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write("targets:\n  - {name: f1, type: postgres, host: 127.0.0.1}\n" + shared)
	env := map[string]string{"APP_ENV": "test", "TARGETS_FILE": path, "NACOS_CONFIG_DATA_ID": "targets", "NACOS_SERVERS": "127.0.0.1:1"}
	for _, k := range []string{"POSTGRES", "ELASTICSEARCH", "MILVUS", "REDIS", "NACOS", "RABBITMQ"} {
		env[k+"_ENABLED"] = "false" // no default targets
	}
	cfg, err := config.Load(config.LoadOptions{Dir: dir, Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	w := &fakeWatch{initial: "targets:\n  - {name: n1, type: redis, host: 127.0.0.1}\n" + shared, changes: make(chan string)}
	var got emitted
	reg := prometheus.NewRegistry()
	src, err := source.New(t.Context(), cfg, source.Options{Watch: w, Emit: got.emit, Registerer: reg, Logger: slog.New(slog.DiscardHandler), PollEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"postgres/f1", "postgres/shared", "redis/n1"}; !slices.Equal(ids(src.Targets()), want) {
		t.Fatalf("start-up targets %v, want %v", ids(src.Targets()), want)
	}
	if v := src.View(); v.Version != 1 || v.Source != source.Startup {
		t.Errorf("view %d from %q, want 1 from startup", v.Version, v.Source)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()

	// Nacos defines shared differently: refused, kept pending.
	w.changes <- "targets:\n  - {name: n1, type: redis, host: 127.0.0.1}\n  - {name: shared, type: postgres, host: 127.0.0.2}\n"
	eventually(t, func() bool {
		return reloads(t, reg, "rejected") == 1
	})
	if got.last() != nil {
		t.Fatalf("a conflicting change was emitted: %v", got.last())
	}
	// The file drops shared: the pending Nacos document now merges.
	write("targets:\n  - {name: f1, type: postgres, host: 127.0.0.1}\n")
	eventually(t, func() bool { return slices.Equal(got.last(), []string{"postgres/f1", "postgres/shared", "redis/n1"}) })
	v := src.View()
	if v.Version != 2 || v.Source != source.File+path {
		t.Errorf("view %d from %q, want 2 from the file", v.Version, v.Source)
	}
	for _, rt := range v.Config.Targets {
		if rt.Name == "shared" && rt.Host != "127.0.0.2" {
			t.Errorf("shared in the view has host %q, want Nacos's 127.0.0.2", rt.Host)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
}

// reloads reads dbhealth_config_reloads_total{result}.
func reloads(t *testing.T, reg *prometheus.Registry, result string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "dbhealth_config_reloads_total" && m.GetLabel()[0].GetValue() == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	wait.Eventually(t, 5*time.Second, "the condition", wait.Bool(cond))
}
