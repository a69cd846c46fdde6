package notify

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	lo := func() float64 { return 0 }
	hi := func() float64 { return 0.999999 }
	base, max := time.Second, time.Minute
	cases := []struct {
		attempt    int
		retryAfter time.Duration
		rand       func() float64
		min, max   time.Duration
	}{
		{1, 0, lo, 500 * time.Millisecond, 500 * time.Millisecond},
		{1, 0, hi, 999 * time.Millisecond, time.Second},
		{2, 0, lo, time.Second, time.Second},
		{3, 0, hi, 3999 * time.Millisecond, 4 * time.Second},
		{10, 0, hi, 59 * time.Second, time.Minute},
		{10, 0, lo, 30 * time.Second, 30 * time.Second},
		{1000, 0, hi, 59 * time.Second, time.Minute},
		{0, 0, lo, 500 * time.Millisecond, 500 * time.Millisecond},
		{1, 10 * time.Second, hi, 10 * time.Second, 10 * time.Second},
		{1, 5 * time.Minute, lo, 5 * time.Minute, 5 * time.Minute},
		{10, 10 * time.Second, lo, 30 * time.Second, 30 * time.Second},
	}
	for _, c := range cases {
		got := Backoff(c.attempt, base, max, c.retryAfter, c.rand)
		if got < c.min || got > c.max {
			t.Errorf("Backoff(%d, retryAfter %v) = %v, want in [%v, %v]", c.attempt, c.retryAfter, got, c.min, c.max)
		}
	}
}

func TestBackoffJitterSpreads(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 50 {
		d := Backoff(4, time.Second, time.Minute, 0, nil)
		if d < 4*time.Second || d > 8*time.Second {
			t.Fatalf("Backoff(4) = %v, want in [4s, 8s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Errorf("50 backoffs gave only %d distinct values", len(seen))
	}
}
