package lifecycle_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dbhealth/database-service/lifecycle"
	"github.com/dbhealth/database-service/testsupport/logrec"
)

// trace records what the steps did, in order.
type trace struct {
	mu  sync.Mutex
	got []string
}

func (tr *trace) add(s string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.got = append(tr.got, s)
}

func (tr *trace) all() []string {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return slices.Clone(tr.got)
}

// step runs until its context ends, then records its stop.
func step(tr *trace, name string) lifecycle.Step {
	return lifecycle.Step{
		Name: name,
		Run: func(ctx context.Context) error {
			tr.add("start " + name)
			<-ctx.Done()
			tr.add("run done " + name)
			return nil
		},
		Stop: func(context.Context) error { tr.add("stop " + name); return nil },
	}
}

func TestOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr trace
		log, rec := logrec.New()
		l := lifecycle.New(log, time.Second)
		l.Add(step(&tr, "a"), step(&tr, "b"), lifecycle.Step{Name: "c", Stop: func(context.Context) error { tr.add("stop c"); return nil }})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- l.Run(ctx) }()
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		want := []string{"run done a", "stop a", "run done b", "stop b", "stop c"}
		if got := tr.all()[2:]; !slices.Equal(got, want) {
			t.Errorf("order:\n got %q\nwant %q", got, want)
		}
		var started []string
		for _, r := range rec.Records(slog.LevelInfo, "step started") {
			started = append(started, r.Attrs["step"].(string))
		}
		if !slices.Equal(started, []string{"b", "a"}) {
			t.Errorf("started %q, want b, a (the reverse of the stop order)", started)
		}
		var names []string
		for _, r := range rec.Records(slog.LevelInfo, "step stopped") {
			names = append(names, r.Attrs["step"].(string))
			if _, ok := r.Attrs["duration"].(time.Duration); !ok {
				t.Errorf("step %v logged without a duration: %v", r.Attrs["step"], r.Attrs)
			}
		}
		if !slices.Equal(names, []string{"a", "b", "c"}) {
			t.Errorf("logged steps %q, want a, b, c", names)
		}
	})
}

func TestStepTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr trace
		release := make(chan struct{})
		defer close(release)
		stuck := lifecycle.Step{
			Name:    "stuck",
			Timeout: 2 * time.Second,
			Run:     func(context.Context) error { <-release; return nil },
		}
		log, rec := logrec.New()
		l := lifecycle.New(log, 10*time.Second)
		l.Add(stuck, step(&tr, "next"))
		d, err := runCancelled(t, l)
		if d != 2*time.Second {
			t.Errorf("shutdown took %s, want the stuck step's 2s", d)
		}
		if !errors.Is(err, lifecycle.ErrTimeout) {
			t.Errorf("Run = %v, want ErrTimeout", err)
		}
		if got := tr.all(); !slices.Contains(got, "stop next") {
			t.Errorf("the step after a stuck one was not stopped: %q", got)
		}
		if rs := rec.Records(slog.LevelError, "step stopped"); len(rs) != 1 || rs[0].Attrs["step"] != "stuck" || rs[0].Attrs["err"] == nil {
			t.Errorf("error records %v, want one for stuck with its err", rs)
		}
	})
}

func TestShutdownTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		defer close(release)
		slow := func(name string) lifecycle.Step {
			return lifecycle.Step{Name: name, Timeout: 3 * time.Second, Stop: func(context.Context) error { <-release; return nil }}
		}
		var stopped bool
		last := lifecycle.Step{Name: "last", Run: func(ctx context.Context) error {
			<-ctx.Done()
			stopped = true
			return nil
		}}
		l := lifecycle.New(nil, 5*time.Second)
		l.Add(slow("one"), slow("two"), last)
		d, err := runCancelled(t, l)
		if d != 5*time.Second {
			t.Errorf("shutdown took %s, want the 5s shutdown timeout", d)
		}
		for _, name := range []string{"one: ", "two: ", "last: "} {
			if err == nil || !errors.Is(err, lifecycle.ErrTimeout) || !containsLine(err.Error(), name) {
				t.Errorf("Run = %v, want a timeout of %q", err, name)
			}
		}
		synctest.Wait()
		if !stopped {
			t.Error("a step past the shutdown timeout was not told to stop")
		}
	})
}

func TestRunErrorStopsAll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tr trace
		boom := errors.New("boom")
		failing := lifecycle.Step{Name: "failing", Run: func(context.Context) error {
			time.Sleep(time.Second)
			return boom
		}}
		closeErr := errors.New("close failed")
		closing := lifecycle.Step{Name: "store", Stop: func(context.Context) error { return closeErr }}
		l := lifecycle.New(nil, time.Second)
		l.Add(step(&tr, "first"), failing, closing)
		err := l.Run(t.Context())
		if !errors.Is(err, boom) || !errors.Is(err, closeErr) {
			t.Fatalf("Run = %v, want boom and the close error", err)
		}
		if !containsLine(err.Error(), "failing: boom") || !containsLine(err.Error(), "store: close failed") {
			t.Errorf("Run = %q, want the errors named by step", err)
		}
		if got := tr.all(); !slices.Contains(got, "stop first") {
			t.Errorf("a failing step did not stop the others: %q", got)
		}
	})
}

// runCancelled runs l with a context already cancelled, so that it starts
// and shuts down at once, and returns how long Run took and its error.
func runCancelled(t *testing.T, l *lifecycle.Lifecycle) (time.Duration, error) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	start := time.Now()
	err := l.Run(ctx)
	return time.Since(start), err
}

func containsLine(s, prefix string) bool {
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, prefix) {
			return true
		}
	}
	return false
}
