package notify

import (
	"context"
	"errors"

	"github.com/dbhealth/database-service/events"
)

// Pipeline is the StateChanged handler of alert delivery: Dispatch, then
// one immediate attempt per notification through the worker (whose Run
// makes the retries). It is idempotent, so an at-least-once consumer may
// hand it the same event again, and replicas may all handle the same
// event: the log sends each notification once.
type Pipeline struct {
	dispatcher *Dispatcher
	worker     *Worker
}

// NewPipeline returns the handler.
func NewPipeline(d *Dispatcher, w *Worker) (*Pipeline, error) {
	if d == nil || w == nil {
		return nil, errors.New("notify: pipeline: nil dispatcher or worker")
	}
	return &Pipeline{dispatcher: d, worker: w}, nil
}

// OnStateChanged dispatches s and delivers its notifications. An error
// means the log failed (the event should be redelivered); a failed send
// is not an error, the log holds it for a retry or as a dead letter.
func (p *Pipeline) OnStateChanged(ctx context.Context, s events.StateChanged) error {
	ns, err := p.dispatcher.Dispatch(ctx, s)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range ns {
		errs = append(errs, p.worker.Deliver(ctx, n))
	}
	return errors.Join(errs...)
}
