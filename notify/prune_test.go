package notify_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/notify"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// batches is a Pruner holding n finished entries.
type batches struct {
	mu      sync.Mutex
	left    int
	befores []time.Time
}

func (b *batches) Prune(_ context.Context, before time.Time, limit int) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.befores = append(b.befores, before)
	n := min(b.left, limit)
	b.left -= n
	return n, nil
}

// TestRunPruner: each tick prunes in batches until a short one, with the
// cut at now minus the retention.
func TestRunPruner(t *testing.T) {
	p := &batches{left: 2500}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		notify.RunPruner(ctx, p, 7*24*time.Hour, 20*time.Millisecond, func() time.Time { return now }, nil)
	}()
	wait.Eventually(t, 5*time.Second, "a second tick", wait.Bool(func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.befores) >= 4
	}))
	cancel()
	<-done
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.left != 0 {
		t.Errorf("%d entries left after the first tick's batches", p.left)
	}
	for _, b := range p.befores {
		if !b.Equal(now.Add(-7 * 24 * time.Hour)) {
			t.Fatalf("cut %v, want now - retention", b)
		}
	}
}
