package projections

import "time"

// Retention defaults of the read models, the same in every store
// (HISTORY_MAX_ENTRIES, HISTORY_RETENTION, ALERT_RETENTION).
const (
	DefaultHistoryMaxEntries = 10000
	DefaultHistoryRetention  = 168 * time.Hour
	DefaultAlertRetention    = 720 * time.Hour
)

// RetentionOrDefaults returns a store's retention settings (history max
// entries, history retention, alert retention) with every value <= 0
// replaced by its default.
func RetentionOrDefaults[N ~int | ~int64](maxEntries N, history, alerts time.Duration) (N, time.Duration, time.Duration) {
	return positiveOr(maxEntries, DefaultHistoryMaxEntries),
		positiveOr(history, DefaultHistoryRetention),
		positiveOr(alerts, DefaultAlertRetention)
}

// positiveOr is v if it is positive, else d.
func positiveOr[T ~int | ~int64](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}
