package notify

import (
	"math/rand/v2"
	"time"
)

// Backoff is the pause before attempt number attempt (1 for the first
// retry) of a failed send: base doubled per attempt, at most max, with
// "equal jitter" (a random point in the upper half, so replicas spread
// out but never retry at once); and never less than retryAfter, the pause
// the receiver asked for (which max does not cap; ParseRetryAfter caps it
// at MaxRetryAfter). rand returns a number in [0, 1); nil means
// math/rand/v2's Float64.
func Backoff(attempt int, base, max, retryAfter time.Duration, rand func() float64) time.Duration {
	if rand == nil {
		rand = randFloat
	}
	if attempt < 1 {
		attempt = 1
	}
	if base <= 0 {
		base = time.Second
	}
	if max < base {
		max = base
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max || d <= 0 {
		d = max
	}
	half := d / 2
	d = half + time.Duration(rand()*float64(d-half))
	if d < retryAfter {
		d = retryAfter
	}
	return d
}

func randFloat() float64 { return rand.Float64() }
