package notify

import (
	"testing"
	"time"

	"github.com/dbhealth/database-service/projections"
)

// Only the latest resolution of a target is re-sent, and none while the
// target fires again.
func TestLatestResolved(t *testing.T) {
	at := func(m int) *time.Time { v := time.Unix(int64(m)*60, 0); return &v }
	resolved := []projections.Alert{
		{ID: "a1", Type: "redis", Name: "x", ResolvedAt: at(1)},
		{ID: "a2", Type: "redis", Name: "x", ResolvedAt: at(3)},
		{ID: "b1", Type: "redis", Name: "y", ResolvedAt: at(2)},
		{ID: "c1", Type: "postgres", Name: "x", ResolvedAt: at(2)},
	}
	firing := []projections.Alert{{ID: "b2", Type: "redis", Name: "y"}}
	got := latestResolved(resolved, firing)
	if len(got) != 2 || got[0].ID != "a2" || got[1].ID != "c1" {
		t.Errorf("latestResolved = %+v, want a2 and c1", got)
	}
}
