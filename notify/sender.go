package notify

import "context"

// Sender delivers a notification to one receiver. A nil error means the
// receiver accepted it; any other error may be passed to Classify.
// Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, n Notification) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, n Notification) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, n Notification) error { return f(ctx, n) }
