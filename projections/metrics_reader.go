package projections

import (
	"context"

	"github.com/dbhealth/database-service/events"
)

// MetricsReader is a store's read of the rolled-up metrics of targets,
// one result per target in their order; One and All build the metrics
// reads of the API on it.
type MetricsReader func(ctx context.Context, ts []events.TargetRef) ([]TargetMetrics, error)

// One is the metrics of the target kind/name.
func (r MetricsReader) One(ctx context.Context, kind, name string) (TargetMetrics, error) {
	ms, err := r(ctx, []events.TargetRef{{Type: kind, Name: name}})
	if err != nil {
		return TargetMetrics{}, err
	}
	return ms[0], nil
}

// All is the metrics of the targets that targets lists, in its order,
// read at most batch targets at a time (all at once when batch <= 0).
func (r MetricsReader) All(ctx context.Context, targets func(context.Context) ([]events.TargetRef, error), batch int) ([]TargetMetrics, error) {
	ts, err := targets(ctx)
	if err != nil {
		return nil, err
	}
	batch = positiveOr(batch, max(len(ts), 1))
	out := make([]TargetMetrics, 0, len(ts))
	for i := 0; i < len(ts); i += batch {
		ms, err := r(ctx, ts[i:min(i+batch, len(ts))])
		if err != nil {
			return nil, err
		}
		out = append(out, ms...)
	}
	return out, nil
}
