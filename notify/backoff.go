package notify

import (
	"math/rand/v2"
	"time"
)

// Backoff is the pause before attempt number attempt (1 for the first
// retry) of a failed send: base doubled per attempt, at most maxDelay, with
// "equal jitter" (a random point in the upper half, so replicas spread
// out but never retry at once); and never less than retryAfter, the pause
// the receiver asked for (which maxDelay does not cap; ParseRetryAfter
// caps it at MaxRetryAfter). rnd returns a number in [0, 1); nil means
// math/rand/v2's Float64.
func Backoff(attempt int, base, maxDelay, retryAfter time.Duration, rnd func() float64) time.Duration {
	if rnd == nil {
		rnd = randFloat
	}
	if attempt < 1 {
		attempt = 1
	}
	if base <= 0 {
		base = time.Second
	}
	if maxDelay < base {
		maxDelay = base
	}
	d := base
	for i := 1; i < attempt && d < maxDelay; i++ {
		d *= 2
	}
	if d > maxDelay || d <= 0 {
		d = maxDelay
	}
	half := d / 2
	d = half + time.Duration(rnd()*float64(d-half))
	if d < retryAfter {
		d = retryAfter
	}
	return d
}

func randFloat() float64 { return rand.Float64() }
