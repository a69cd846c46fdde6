package bus

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
)

// startRelays runs n goroutines that publish batches of five state changes
// to b the way the outbox relay does: each batch is retried every retry
// until Publish confirms it, with a pause between batches. After every
// attempt (numbered from 1) it calls attempted with the batch, how long
// Publish took and its error. The returned function stops the goroutines
// and waits for them.
func startRelays(t testing.TB, b *Bus, n int, retry, pause time.Duration,
	attempted func(batch []events.Envelope, attempt int, took time.Duration, err error)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := int64(1); ; seq += 5 {
				batch := make([]events.Envelope, 5)
				for i := range batch {
					batch[i] = changed(t, "postgres", fmt.Sprint("w", w), seq+int64(i))
				}
				for attempt := 1; ; attempt++ {
					start := time.Now()
					err := b.Publish(context.Background(), batch...)
					attempted(batch, attempt, time.Since(start), err)
					if err == nil {
						break
					}
					if !sleepUnless(done, retry) {
						return
					}
				}
				if !sleepUnless(done, pause) {
					return
				}
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
	}
}

// sleepUnless waits for d and reports true, or reports false as soon as
// done is closed.
func sleepUnless(done <-chan struct{}, d time.Duration) bool {
	select {
	case <-done:
		return false
	case <-time.After(d):
		return true
	}
}
