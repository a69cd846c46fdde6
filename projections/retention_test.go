package projections

import (
	"testing"
	"time"
)

func TestRetentionOrDefaults(t *testing.T) {
	for _, c := range []struct {
		n           int64
		hist, alert time.Duration
		wantN       int64
		wantH       time.Duration
		wantA       time.Duration
	}{
		{0, 0, 0, DefaultHistoryMaxEntries, DefaultHistoryRetention, DefaultAlertRetention},
		{-1, -time.Hour, -time.Hour, DefaultHistoryMaxEntries, DefaultHistoryRetention, DefaultAlertRetention},
		{5, time.Hour, time.Minute, 5, time.Hour, time.Minute},
	} {
		n, h, a := RetentionOrDefaults(c.n, c.hist, c.alert)
		if n != c.wantN || h != c.wantH || a != c.wantA {
			t.Errorf("RetentionOrDefaults(%d, %v, %v) = %d, %v, %v", c.n, c.hist, c.alert, n, h, a)
		}
	}
}
