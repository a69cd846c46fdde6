package reconcile_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/probes/reconcile"
)

// scheduler records the sets it is given.
type scheduler struct{ sets [][]probes.Target }

func (s *scheduler) SetTargets(ts []probes.Target) { s.sets = append(s.sets, ts) }

func redis(name string) probes.Target { return probes.Target{Kind: probes.Redis, Name: name} }

func TestReconciler(t *testing.T) {
	var forgot, removed []string
	known := []events.TargetRef{{Type: "redis", Name: "kept"}, {Type: "redis", Name: "stale"}}
	var knownErr error
	sched := &scheduler{}
	r := reconcile.New(reconcile.Options{
		Manager:   probes.NewManager(nil, nil, nil),
		Scheduler: sched,
		Forget: func(_ context.Context, kind, name string) error {
			forgot = append(forgot, kind+"/"+name)
			return errors.New("store down") // logged, not fatal
		},
		Known:     func(context.Context) ([]events.TargetRef, error) { return known, knownErr },
		OnRemoved: func(t probes.Target) { removed = append(removed, t.ID()) },
		Logger:    slog.New(slog.DiscardHandler),
	})

	r.Start(t.Context(), []probes.Target{redis("kept"), redis("gone")})
	if !slices.Equal(forgot, []string{"redis/stale"}) {
		t.Errorf("start-up forgot %v, want the stale target the read models held", forgot)
	}
	forgot = nil
	r.Set(t.Context(), []probes.Target{redis("kept")})
	if !slices.Equal(forgot, []string{"redis/gone"}) || !slices.Equal(removed, []string{"redis/gone"}) {
		t.Errorf("a removal forgot %v and dropped series of %v, want redis/gone", forgot, removed)
	}
	if len(sched.sets) != 2 || len(sched.sets[1]) != 1 {
		t.Errorf("scheduler sets %v, want both sets", sched.sets)
	}
	forgot, knownErr = nil, errors.New("unreachable")
	r.Start(t.Context(), nil) // the read models unreadable: only removals
	if !slices.Equal(forgot, []string{"redis/kept"}) {
		t.Errorf("forgot %v with the read models unreadable, want only the removed redis/kept", forgot)
	}
}
