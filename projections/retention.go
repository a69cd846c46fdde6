package projections

import "time"

// Retention defaults of the read models, the same in every store
// (HISTORY_MAX_ENTRIES, HISTORY_RETENTION, ALERT_RETENTION).
const (
	DefaultHistoryMaxEntries = 10000
	DefaultHistoryRetention  = 168 * time.Hour
	DefaultAlertRetention    = 720 * time.Hour
)
