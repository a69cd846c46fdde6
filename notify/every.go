package notify

import (
	"context"
	"time"
)

// every runs f now and then every period until ctx ends; an error of f
// (unless ctx ended) goes to failed, and the next run is the retry.
func every(ctx context.Context, period time.Duration, f func(context.Context) error, failed func(error)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		if err := f(ctx); err != nil && ctx.Err() == nil {
			failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
