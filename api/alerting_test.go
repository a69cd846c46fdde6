package api_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/notify"
	"github.com/dbhealth/database-service/notify/mute"
)

// withAlerting wires real silences, windows and acks (the embedded mute
// store), a real notification log and the muter over them.
func withAlerting(t *testing.T) option {
	return func(o *api.Options, d *api.Deps) {
		ms, err := mute.OpenLocalStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = ms.Close() })
		nl, err := notify.OpenLocalLog(t.TempDir(), o.Now, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = nl.Close() })
		m := mute.NewMuter(ms, nil, o.Now)
		d.Silences, d.Maintenance, d.Acks, d.Notifications = refreshing{ms, m}, ms, refreshing{ms, m}, nl
		d.Marks = m
		d.Receivers = receiversFake{}
	}
}

// refreshing refreshes the muter after each write, as the service does.
type refreshing struct {
	*mute.LocalStore
	m *mute.Muter
}

func (r refreshing) PutSilence(ctx context.Context, s mute.Silence) error {
	if err := r.LocalStore.PutSilence(ctx, s); err != nil {
		return err
	}
	return r.m.Refresh(ctx)
}

func (r refreshing) ExpireSilence(ctx context.Context, id string, now time.Time) (mute.Silence, error) {
	s, err := r.LocalStore.ExpireSilence(ctx, id, now)
	if err != nil {
		return s, err
	}
	return s, r.m.Refresh(ctx)
}

func (r refreshing) PutAck(ctx context.Context, a mute.Ack) error {
	if err := r.LocalStore.PutAck(ctx, a); err != nil {
		return err
	}
	return r.m.Refresh(ctx)
}

func (r refreshing) DeleteAck(ctx context.Context, id string) error {
	if err := r.LocalStore.DeleteAck(ctx, id); err != nil {
		return err
	}
	return r.m.Refresh(ctx)
}

type receiversFake struct{}

func (receiversFake) Receivers() []api.ReceiverInfo {
	return []api.ReceiverInfo{{Name: "ops", Kind: "webhook"}, {Name: "gone", Kind: "slack", Disabled: true, DisabledReason: "410 Gone"}}
}

func (receiversFake) Enable(_ context.Context, name string) error {
	if name != "ops" && name != "gone" {
		return api.ErrUnknownReceiver
	}
	return nil
}

func jsonPost(path, body string) request {
	return request{method: http.MethodPost, path: path, body: strings.NewReader(body), header: map[string]string{"Content-Type": "application/json"}}
}

func TestSilences(t *testing.T) {
	e := newEnv(t, withAlerting(t), withToken("tok"))
	now := e.fakes.clock.Now()
	ends := now.Add(time.Hour).Format(time.RFC3339)

	for body, field := range map[string]string{
		`{"matchers":[{"name":"colour","value":"red"}],"endsAt":"` + ends + `","createdBy":"me"}`:                                     "matchers[0].name",
		`{"matchers":[{"name":"name","value":"(","isRegex":true}],"endsAt":"` + ends + `","createdBy":"me"}`:                          "matchers[0].value",
		`{"matchers":[{"name":"type","value":"redis"}],"endsAt":"` + now.Add(-time.Hour).Format(time.RFC3339) + `","createdBy":"me"}`: "endsAt",
		`{"matchers":[{"name":"type","value":"redis"}],"endsAt":"` + ends + `","createdBy":"me","colour":1}`:                          "colour",
	} {
		res := e.do(withTok(jsonPost("/api/database/alerts/silences", body), "tok"))
		if code, msg := res.ErrorCode(t); res.Status != 400 || code != "invalid_parameter" || !strings.Contains(msg, field) {
			t.Errorf("%s: %d %s %q, want a 400 naming %s", body, res.Status, code, msg, field)
		}
	}
	good := `{"matchers":[{"name":"type","value":"elasticsearch"},{"name":"name","value":"se.*","isRegex":true}],"endsAt":"` + ends + `","createdBy":"me","comment":"upgrade"}`
	if res := e.do(jsonPost("/api/database/alerts/silences", good)); res.Status != 401 {
		t.Errorf("without the token: %d, want 401", res.Status)
	}
	res := e.do(withTok(jsonPost("/api/database/alerts/silences", good), "tok"))
	created := res.JSON(t)
	if res.Status != 201 || created["status"] != "active" || created["id"] == "" {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	id := created["id"].(string)

	_, list := getJSON[api.SilencesResponse](e, "/api/database/alerts/silences?state=active")
	if len(list.Silences) != 1 || list.Silences[0].ID != id || list.Silences[0].CreatedBy != "me" {
		t.Errorf("active silences %+v", list.Silences)
	}
	_, alerts := getJSON[api.AlertsResponse](e, "/api/database/alerts")
	for _, a := range alerts.Alerts {
		if silenced := len(a.SilencedBy) == 1 && a.SilencedBy[0] == id; silenced != (a.Type == "elasticsearch") {
			t.Errorf("alert %s/%s silenced_by %v", a.Type, a.Name, a.SilencedBy)
		}
	}

	del := request{method: http.MethodDelete, path: "/api/database/alerts/silences/" + id}
	if res := e.do(withTok(del, "tok")); res.Status != 200 || res.JSON(t)["status"] != "expired" {
		t.Errorf("expire: %d %s", res.Status, res.Body)
	}
	if _, list := getJSON[api.SilencesResponse](e, "/api/database/alerts/silences?state=expired"); len(list.Silences) != 1 {
		t.Errorf("expired silences %+v", list.Silences)
	}
	if _, alerts := getJSON[api.AlertsResponse](e, "/api/database/alerts"); len(alerts.Alerts[0].SilencedBy) != 0 {
		t.Errorf("still silenced after the expiry: %+v", alerts.Alerts[0])
	}
	if res := e.do(withTok(request{method: http.MethodDelete, path: "/api/database/alerts/silences/nope"}, "tok")); res.Status != 404 {
		t.Errorf("unknown silence: %d", res.Status)
	}
	if res := e.get("/api/database/alerts/silences?state=soon"); res.Status != 400 {
		t.Errorf("bad state: %d", res.Status)
	}
}

func TestAcknowledgement(t *testing.T) {
	e := newEnv(t, withAlerting(t))
	id := "elasticsearch/search:1:7"
	e.fakes.mu.Lock()
	e.fakes.alerts[0].ID = id
	e.fakes.mu.Unlock()
	path := "/api/database/alerts/" + url.PathEscape(id)
	if res := e.do(jsonPost(path+"/ack", `{"comment":"on it"}`)); res.Status != 400 || !strings.Contains(string(res.Body), "by") {
		t.Errorf("ack without by: %d %s", res.Status, res.Body)
	}
	if res := e.do(jsonPost("/api/database/alerts/"+url.PathEscape("redis/x:1:1")+"/ack", `{"by":"ann"}`)); res.Status != 404 {
		t.Errorf("ack of no firing alert: %d %s", res.Status, res.Body)
	}
	res := e.do(jsonPost(path+"/ack", `{"by":"ann","comment":"on it"}`))
	if m := res.JSON(t); res.Status != 200 || m["alert_id"] != id || m["by"] != "ann" {
		t.Fatalf("ack: %d %s", res.Status, res.Body)
	}
	_, alerts := getJSON[api.AlertsResponse](e, "/api/database/alerts")
	if a := alerts.Alerts[0]; a.ID != id || a.AckedBy != "ann" || a.Muted() || alerts.Alerts[1].AckedBy != "" {
		t.Errorf("acked alert %+v", alerts.Alerts)
	}
	if res := e.do(request{method: http.MethodPost, path: path + "/unack"}); res.Status != 204 {
		t.Errorf("unack: %d %s", res.Status, res.Body)
	}
	if res := e.do(request{method: http.MethodPost, path: path + "/unack"}); res.Status != 404 {
		t.Errorf("second unack: %d", res.Status)
	}
	if _, alerts := getJSON[api.AlertsResponse](e, "/api/database/alerts"); alerts.Alerts[0].AckedBy != "" {
		t.Errorf("still acked: %+v", alerts.Alerts[0])
	}
}

func TestMaintenanceWindows(t *testing.T) {
	e := newEnv(t, withAlerting(t))
	for body, field := range map[string]string{
		`{"name":"n","cron":"every night","duration":"1h"}`:                           "cron",
		`{"name":"n","cron":"30 2 * * *","duration":"1h","time_zone":"Mars/Olympus"}`: "time_zone",
		`{"name":"n","cron":"30 2 * * *"}`:                                            "duration",
		`{"name":"n"}`:                                                                "starts_at",
	} {
		res := e.do(jsonPost("/api/database/maintenance", body))
		if code, msg := res.ErrorCode(t); res.Status != 400 || code != "invalid_parameter" || !strings.Contains(msg, field) {
			t.Errorf("%s: %d %s %q, want a 400 naming %s", body, res.Status, code, msg, field)
		}
	}
	now := e.fakes.clock.Now()
	body := `{"name":"upgrade","matchers":[{"name":"type","value":"elasticsearch"}],"starts_at":"` + now.Add(-time.Minute).Format(time.RFC3339) + `","duration":"1h","created_by":"ann"}`
	res := e.do(jsonPost("/api/database/maintenance", body))
	if m := res.JSON(t); res.Status != 201 || m["active"] != true || m["source"] != "api" {
		t.Fatalf("create: %d %s", res.Status, res.Body)
	}
	_, ws := getJSON[api.WindowsResponse](e, "/api/database/maintenance")
	if len(ws.Windows) != 1 || ws.Windows[0].Name != "upgrade" || !ws.Windows[0].Active {
		t.Fatalf("windows %+v", ws.Windows)
	}
	del := request{method: http.MethodDelete, path: "/api/database/maintenance/" + ws.Windows[0].ID}
	if res := e.do(del); res.Status != 204 {
		t.Errorf("delete: %d %s", res.Status, res.Body)
	}
	if res := e.do(del); res.Status != 404 {
		t.Errorf("delete again: %d %s", res.Status, res.Body)
	}
	if _, ws := getJSON[api.WindowsResponse](e, "/api/database/maintenance"); len(ws.Windows) != 0 {
		t.Errorf("windows after the delete %+v", ws.Windows)
	}
}

func TestNotificationLogAndReceivers(t *testing.T) {
	e := newEnv(t, withAlerting(t))
	if _, body := getJSON[api.NotificationsResponse](e, "/api/database/alerts/notifications"); body.Notifications == nil || len(body.Notifications) != 0 {
		t.Errorf("dead letters %+v", body)
	}
	if res := e.get("/api/database/alerts/notifications?state=lost"); res.Status != 400 {
		t.Errorf("bad state: %d", res.Status)
	}
	if res := e.do(request{method: http.MethodPost, path: "/api/database/alerts/notifications/ntf_x/retry"}); res.Status != 404 {
		t.Errorf("retry of an unknown notification: %d %s", res.Status, res.Body)
	}
	_, rs := getJSON[api.ReceiversResponse](e, "/api/database/alerts/receivers")
	if len(rs.Receivers) != 2 || !rs.Receivers[1].Disabled {
		t.Errorf("receivers %+v", rs.Receivers)
	}
	if res := e.do(request{method: http.MethodPost, path: "/api/database/alerts/receivers/nobody/enable"}); res.Status != 404 {
		t.Errorf("enable an unknown receiver: %d %s", res.Status, res.Body)
	}
	if res := e.do(request{method: http.MethodPost, path: "/api/database/alerts/receivers/ops/enable"}); res.Status != 200 || res.JSON(t)["name"] != "ops" {
		t.Errorf("enable: %d %s", res.Status, res.Body)
	}
	// Without alert delivery wired, the routes say so.
	plain := newEnv(t)
	if res := plain.get("/api/database/alerts/silences"); res.Status != 503 {
		t.Errorf("silences without delivery: %d", res.Status)
	}
}

// withTok sends the bearer token.
func withTok(r request, tok string) request {
	if r.header == nil {
		r.header = map[string]string{}
	}
	r.header["Authorization"] = "Bearer " + tok
	return r
}
