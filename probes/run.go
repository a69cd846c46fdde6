package probes

import (
	"context"
	"time"

	"github.com/dbhealth/database-service/config/secret"
)

// Judge turns a probe's facts and error into a Result for t. It is pure:
// latency and checkedAt are given by the caller.
func Judge(t Target, f Facts, err error, latency time.Duration, checkedAt time.Time) Result {
	r := Result{Target: t, Latency: latency, CheckedAt: checkedAt, Details: detailsOf(f)}
	if err != nil {
		r.State = StateDown
		r.ErrorKind = Classify(err)
		r.Error = scrub(err.Error(), t)
		r.Reason = string(r.ErrorKind)
		return r
	}
	if f == nil {
		r.State = StateDown
		r.ErrorKind = ErrKindProtocol
		r.Error = "probe returned no facts"
		r.Reason = r.Error
		return r
	}
	r.State, r.Reason = f.Health(t.Limits.WithDefaults())
	r.Reason = scrub(r.Reason, t)
	return r
}

// RunProbe probes t once through c with t's timeout and judges the outcome.
func RunProbe(ctx context.Context, t Target, c Client) Result {
	ctx, cancel := context.WithTimeout(ctx, targetTimeout(t))
	defer cancel()
	start := time.Now()
	f, err := c.Probe(ctx)
	lat := time.Since(start)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		// A probe cut short by its own deadline is a timeout, whatever
		// wrapped error the client library made of it.
		switch Classify(err) {
		case ErrKindUnknown, ErrKindUnavailable, ErrKindProtocol:
			err = Fail(ErrKindTimeout, err)
		}
	}
	return Judge(t, f, err, lat, start)
}

// scrub removes every credential of t from msg.
func scrub(msg string, t Target) string {
	msg = secret.Scrub(msg, t.Secrets()...)
	return scrubURLCredentials(msg)
}
