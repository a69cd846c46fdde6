package probes

import "context"

// Watch waits on the client's long-lived connection (dialing it when there
// is none) for amqp091's NotifyClose: a connection the server or the
// network drops is reported through lost at once, then re-established with
// backoff. Watch returns when ctx is done or the client is closed.
func (c *rabbitClient) Watch(ctx context.Context, lost func(reason string)) {
	ctx, cancel := untilClosed(ctx, c.closed)
	defer cancel()
	watchLoop(ctx, lost, c.watchOnce)
}

func (c *rabbitClient) watchOnce(ctx context.Context) (bool, string) {
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	s, err := c.session(dctx)
	cancel()
	if err != nil {
		return false, ""
	}
	s.watched.Store(true)
	defer s.watched.Store(false)
	select {
	case <-s.done:
		return true, s.reason
	case <-ctx.Done():
		return true, ""
	}
}
