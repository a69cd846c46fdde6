package notify_test

import (
	"testing"
	"time"

	"github.com/dbhealth/database-service/notify"
	"github.com/dbhealth/database-service/notify/logtest"
	"github.com/dbhealth/database-service/testsupport/redistest"
)

func redisLog(t testing.TB, now func() time.Time) logtest.Store {
	rdb := redistest.Machine(t)
	l, err := notify.NewRedisLog(rdb, redistest.Prefix(t, rdb, "notifytest"), now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func localLog(t testing.TB, now func() time.Time) logtest.Store {
	l, err := notify.OpenLocalLog(t.TempDir(), now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l
}

func TestLogContract(t *testing.T) {
	logtest.Run(t, logtest.Backend{Name: "redis", Open: redisLog})
	logtest.Run(t, logtest.Backend{Name: "local", Open: localLog})
}
