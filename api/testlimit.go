package api

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// Connection tests per database type: a burst of testBurst, then one per
// testEvery, so the endpoint cannot be turned into a load generator
// against the databases it watches.
const (
	testEvery = time.Second
	testBurst = 5
)

// testLimits holds one token bucket per database type.
type testLimits struct {
	mu sync.Mutex
	by map[events.Kind]*rate.Limiter
}

// allow takes a token for kind, or answers 429 with Retry-After.
func (l *testLimits) allow(c echo.Context, kind events.Kind) error {
	l.mu.Lock()
	if l.by == nil {
		l.by = map[events.Kind]*rate.Limiter{}
	}
	lim := l.by[kind]
	if lim == nil {
		lim = rate.NewLimiter(rate.Every(testEvery), testBurst)
		l.by[kind] = lim
	}
	l.mu.Unlock()
	r := lim.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		wait := strconv.Itoa(int(math.Ceil(d.Seconds())))
		c.Response().Header().Set("Retry-After", wait)
		return &httpError{status: http.StatusTooManyRequests, code: "rate_limited",
			message: "too many connection tests of " + string(kind) + "; retry in " + wait + "s"}
	}
	return nil
}
