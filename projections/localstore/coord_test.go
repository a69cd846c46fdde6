package localstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
	"github.com/dbhealth/database-service/projections/storetest"
	"github.com/dbhealth/database-service/testsupport/wait"
)

func target(name string) probes.Target {
	return probes.Target{Kind: probes.Postgres, Name: name, Interval: time.Second, FailureThreshold: 2, SuccessThreshold: 2}
}

// probe claims a slot for t and applies a check of state s at it.
func probe(t *testing.T, s *Store, tg probes.Target, state probes.State) probes.Outcome {
	t.Helper()
	ctx := context.Background()
	cl, err := s.Claim(ctx, []probes.Due{{Target: tg, Trigger: probes.TriggerSchedule, Step: time.Second}})
	if err != nil || !cl[0].Won {
		t.Fatalf("claim: %v %v", cl, err)
	}
	r := probes.Result{Target: tg, State: state, Latency: 3 * time.Millisecond, CheckedAt: time.UnixMilli(cl[0].Slot)}
	if state != probes.StateUp {
		r.Reason, r.ErrorKind, r.Error = "refused", probes.ErrKindRefused, "connection refused"
	}
	out, err := s.Apply(ctx, []probes.Check{{Result: r, Slot: cl[0].Slot, Trigger: probes.TriggerSchedule}})
	if err != nil {
		t.Fatal(err)
	}
	return out[0]
}

func TestApplyDebouncesAndProjects(t *testing.T) {
	s := openTest(t, Options{Replica: "r1"})
	tg := target("db")
	ctx := context.Background()
	var checked int
	s.opts.OnChecked = func(hs []events.HealthChecked) { checked += len(hs) }
	if o := probe(t, s, tg, probes.StateUp); o.Pending {
		t.Fatal("initial UP pending")
	}
	if o := probe(t, s, tg, probes.StateDown); !o.Pending {
		t.Fatal("first DOWN not pending")
	}
	if o := probe(t, s, tg, probes.StateDown); o.Pending {
		t.Fatal("second DOWN still pending (failure threshold 2)")
	}
	st, _ := s.StatusesOf(ctx, "postgres")
	if len(st) != 1 || st[0].State != "DOWN" || st[0].Seq != 2 || st[0].ErrorKind != "refused" || st[0].Prober != "r1" {
		t.Fatalf("status %+v", st)
	}
	as, _ := s.Alerts(ctx, projections.AlertQuery{State: "firing"})
	if len(as) != 1 || as[0].Severity != "critical" || as[0].Reason != "refused" {
		t.Fatalf("alerts %+v", as)
	}
	p, _ := s.History(ctx, projections.HistoryQuery{Type: "postgres", Name: "db"})
	if len(p.Items) != 3 || checked != 3 {
		t.Fatalf("history %d items, %d checks published", len(p.Items), checked)
	}
	m, _ := s.Metrics(ctx, "postgres", "db")
	if m.Checks != 3 {
		t.Fatalf("rolled up %d checks", m.Checks)
	}
	if n, _ := s.OutboxLen(ctx); n != 2 {
		t.Fatalf("outbox %d, want 2 transitions", n)
	}
}

func TestRelayPublishesOnlyWhatIsOnDisk(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{FlushInterval: time.Hour, Source: "/test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pub := storetest.FailingPublisher()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.RunRelay(ctx, pub) }()
	defer func() { cancel(); <-done }()
	probe(t, s, target("a"), probes.StateDown) // initial DOWN: a transition, committed at once
	time.Sleep(100 * time.Millisecond)
	if len(pub.IDs()) != 0 {
		t.Fatal("published while the bus was down")
	}
	pub.SetFailing(false)
	wait.Eventually(t, 5*time.Second, "the transition published", wait.Bool(func() bool { return len(pub.IDs()) == 1 }))
	if id := pub.IDs()[0]; id != fmt.Sprintf("postgres/a:%d:1", mustMachine(t, s, "postgres/a").Epoch) {
		t.Fatalf("published %s", id)
	}
	wait.Eventually(t, 5*time.Second, "the outbox emptied", wait.Bool(func() bool { n, _ := s.OutboxLen(ctx); return n == 0 }))
}

func mustMachine(t *testing.T, s *Store, id string) projections.Machine {
	t.Helper()
	m, ok := s.machine(id)
	if !ok {
		t.Fatalf("no machine for %s", id)
	}
	return m
}

func TestRestartKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tg := target("db")
	for _, st := range []probes.State{probes.StateUp, probes.StateDown, probes.StateDown, probes.StateUp} {
		probe(t, s, tg, st)
	}
	before := snapshot(t, s)
	m := mustMachine(t, s, tg.ID())
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Statuses(ctx); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if after := snapshot(t, s); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("after restart:\n%v\nbefore:\n%v", after, before)
	}
	if got := mustMachine(t, s, tg.ID()); got != m {
		t.Fatalf("machine %+v, want %+v", got, m)
	}
	// The epoch goes on, and so does the pending recovery (1 of 2 UP):
	// the next UP is transition 3 of the same epoch.
	probe(t, s, tg, probes.StateUp)
	if got := mustMachine(t, s, tg.ID()); got.Epoch != m.Epoch || got.Seq != 3 || got.Stable != "UP" {
		t.Fatalf("after restart the machine went on as %+v", got)
	}
	cl, _ := s.Claim(ctx, []probes.Due{{Target: tg}})
	if cl[0].Slot <= m.LastSlot {
		t.Fatalf("slot %d after restart not above %d", cl[0].Slot, m.LastSlot)
	}
}

// snapshot reads every read model of s as text.
func snapshot(t *testing.T, s *Store) []string {
	t.Helper()
	ctx := context.Background()
	st, err := s.Statuses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	al, _ := s.Alerts(ctx, projections.AlertQuery{Limit: 1000})
	h, _ := s.History(ctx, projections.HistoryQuery{Type: "postgres", Limit: 1000})
	m, _ := s.AllMetrics(ctx)
	n, _ := s.OutboxLen(ctx)
	out := []string{fmt.Sprintf("outbox %d", n)}
	for _, x := range st {
		x.Details = nil
		out = append(out, fmt.Sprintf("status %+v since %v checked %v", x, x.Since.UnixNano(), x.CheckedAt.UnixNano()))
	}
	for _, a := range al {
		out = append(out, fmt.Sprintf("alert %s %s %s %v %v", a.ID, a.State, a.Reason, a.StartedAt.UnixMilli(), a.ResolvedAt))
	}
	for _, it := range h.Items {
		out = append(out, fmt.Sprintf("history %s %s %v %v", it.Name, it.State, it.CheckedAt.UnixMilli(), it.LatencyMS))
	}
	for _, x := range m {
		out = append(out, fmt.Sprintf("metrics %s %d %v", x.Name, x.Checks, x.LatencyMS))
	}
	return out
}

func TestLateResultOfARemovedTargetIsDropped(t *testing.T) {
	s := openTest(t, Options{})
	ctx := context.Background()
	tg := target("gone")
	cl, _ := s.Claim(ctx, []probes.Due{{Target: tg}})
	probe(t, s, tg, probes.StateDown)
	if err := s.Forget(ctx, "postgres", "gone"); err != nil {
		t.Fatal(err)
	}
	late := probes.Check{Slot: cl[0].Slot, Result: probes.Result{Target: tg, State: probes.StateUp, CheckedAt: time.UnixMilli(cl[0].Slot)}}
	if _, err := s.Apply(ctx, []probes.Check{late}); err != nil {
		t.Fatal(err)
	}
	if st, _ := s.Statuses(ctx); len(st) != 0 {
		t.Fatalf("a late result brought the target back: %+v", st)
	}
	as, _ := s.Alerts(ctx, projections.AlertQuery{})
	if len(as) != 1 || as[0].State != "resolved" || as[0].Reason != "removed" {
		t.Fatalf("alerts after removal %+v", as)
	}
	// Added again, it starts over in a new epoch.
	probe(t, s, tg, probes.StateDown)
	if m := mustMachine(t, s, tg.ID()); m.Seq != 1 || m.Stable != "DOWN" {
		t.Fatalf("re-added target: %+v", m)
	}
	if n, _ := s.Firing(ctx); n != 1 {
		t.Fatalf("firing %d after re-adding a DOWN target", n)
	}
}

func TestOpenRefusesASecondProcess(t *testing.T) {
	if os.Getenv("LOCALSTORE_HELPER") == "lock" {
		_, err := Open(os.Getenv("LOCALSTORE_DIR"), Options{})
		if errors.Is(err, ErrLocked) {
			os.Exit(3)
		}
		fmt.Println(err)
		os.Exit(0)
	}
	dir := t.TempDir()
	s := openTestIn(t, dir)
	_ = s
	cmd := exec.Command(os.Args[0], "-test.run=^TestOpenRefusesASecondProcess$")
	cmd.Env = append(os.Environ(), "LOCALSTORE_HELPER=lock", "LOCALSTORE_DIR="+dir)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("second process: %v (%s), want ErrLocked (exit 3)", err, out)
	}
}

func openTestIn(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestSigkillKeepsTransitionsAndAlerts runs a store in a child process,
// kills it with SIGKILL right after a transition, and opens the file:
// the transition, its alert, epoch and seq are there, and the history up
// to the last commit.
func TestSigkillKeepsTransitionsAndAlerts(t *testing.T) {
	if os.Getenv("LOCALSTORE_HELPER") == "kill" {
		s, err := Open(os.Getenv("LOCALSTORE_DIR"), Options{FlushInterval: 50 * time.Millisecond})
		if err != nil {
			os.Exit(2)
		}
		tg := target("db")
		for _, st := range []probes.State{probes.StateUp, probes.StateUp, probes.StateUp} {
			probe(t, s, tg, st)
		}
		time.Sleep(200 * time.Millisecond) // committed by the flusher
		probe(t, s, tg, probes.StateDown)
		probe(t, s, tg, probes.StateDown) // DOWN: committed at once
		_ = s.flush()
		m, _ := s.machine(tg.ID())
		fmt.Printf("ready %d %d\n", m.Epoch, m.Seq)
		select {} // wait for SIGKILL
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSigkillKeepsTransitionsAndAlerts$")
	cmd.Env = append(os.Environ(), "LOCALSTORE_HELPER=kill", "LOCALSTORE_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 256)
	n, _ := out.Read(buf)
	var epoch, seq int64
	if _, err := fmt.Sscanf(string(buf[:n]), "ready %d %d", &epoch, &seq); err != nil {
		_ = cmd.Process.Kill()
		t.Fatalf("child said %q: %v", buf[:n], err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	s := openTestIn(t, dir)
	ctx := context.Background()
	m := mustMachine(t, s, "postgres/db")
	if m.Epoch != epoch || m.Seq != seq || m.Stable != "DOWN" {
		t.Fatalf("machine after SIGKILL %+v, want epoch %d seq %d DOWN", m, epoch, seq)
	}
	as, _ := s.Alerts(ctx, projections.AlertQuery{State: "firing"})
	if len(as) != 1 || as[0].ID != "postgres/db:"+strconv.FormatInt(epoch, 10)+":2" {
		t.Fatalf("firing alerts after SIGKILL %+v", as)
	}
	h, _ := s.History(ctx, projections.HistoryQuery{Type: "postgres"})
	if len(h.Items) != 5 {
		t.Fatalf("history after SIGKILL has %d items, want 5", len(h.Items))
	}
	if n, _ := s.OutboxLen(ctx); n != 2 {
		t.Fatalf("outbox after SIGKILL %d, want the 2 unpublished transitions", n)
	}
}
