package probes

import (
	"log/slog"
	"sync"
	"time"
)

// rateLog logs a repeated failure at most once every rateLogEvery per
// kind, with the count of occurrences since the last line.
type rateLog struct {
	mu   sync.Mutex
	last map[string]time.Time
	n    map[string]int
}

const rateLogEvery = 10 * time.Second

func (r *rateLog) every(log *slog.Logger, kind, msg string, args ...any) {
	r.mu.Lock()
	if r.last == nil {
		r.last, r.n = map[string]time.Time{}, map[string]int{}
	}
	r.n[kind]++
	now := time.Now()
	if now.Sub(r.last[kind]) < rateLogEvery {
		r.mu.Unlock()
		return
	}
	n := r.n[kind]
	r.last[kind], r.n[kind] = now, 0
	r.mu.Unlock()
	log.Error(msg, append(args, "times", n)...)
}
