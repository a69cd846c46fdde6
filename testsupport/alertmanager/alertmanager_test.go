package alertmanager

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/wait"
)

func TestStartDeliversToSink(t *testing.T) {
	sink := NewSink(t)
	am := Start(t, Options{WebhookURL: sink.URL})
	body := `[{"labels":{"alertname":"Smoke","target":"x"},"startsAt":"` + time.Now().UTC().Format(time.RFC3339) + `"}]`
	resp, err := http.Post(am.URL+"/api/v2/alerts", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST alerts: %s", resp.Status)
	}
	wait.Eventually(t, 10*time.Second, "a notification", wait.Bool(func() bool { return len(sink.Messages()) > 0 }))
	m := sink.Messages()[0]
	if m.Status != "firing" || len(m.Alerts) != 1 || m.Alerts[0].Labels["alertname"] != "Smoke" {
		t.Errorf("notification %+v", m)
	}
}
