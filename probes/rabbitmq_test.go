package probes

import (
	"context"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/testsupport/servers"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// viaProxy points tg at a new proxy in front of it.
func viaProxy(t *testing.T, tg Target) (Target, *servers.Proxy) {
	p := servers.StartProxy(t, tg.Addr())
	tg.Host, tg.Port = p.Host, p.Port
	return tg, p
}

// upViaProxy opens a client of the machine's RabbitMQ through a new proxy
// and requires it to probe UP.
func upViaProxy(t *testing.T) (Target, *servers.Proxy, Client) {
	t.Helper()
	tg, proxy := viaProxy(t, localRabbitMQ())
	c := openForTest(t, OpenRabbitMQ, tg)
	requireProbe(t, tg, c, StateUp, ErrKindNone)
	return tg, proxy, c
}

func TestRabbitMQUp(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's RabbitMQ")
	}
	tg, proxy := viaProxy(t, localRabbitMQ())
	c := openForTest(t, OpenRabbitMQ, tg)
	var r Result
	for range 3 {
		r = requireProbe(t, tg, c, StateUp, ErrKindNone)
	}
	if n := proxy.Accepted(); n != 1 {
		t.Fatalf("3 probes made %d connections, want 1 reused", n)
	}
	f, err := c.Probe(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rf := f.(RabbitMQFacts)
	if rf.Product != "RabbitMQ" || rf.Version == "" || rf.VHost != "/" || rf.Blocked || rf.Management != nil {
		t.Fatalf("facts = %+v", rf)
	}
	if st := c.Stats(); st != (PoolStats{Open: 1, Idle: 1, Acquires: 4}) {
		t.Fatalf("stats = %+v", st)
	}
	t.Logf("details: %s", r.Details)
}

func TestRabbitMQRefusesCredentials(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's RabbitMQ")
	}
	const bad = "rabbit-Wrong-Secret-29"
	wrongPassword := localRabbitMQ()
	wrongPassword.Password = secret.String(bad)
	wrongVHost := localRabbitMQ()
	wrongVHost.VHost = "/dbhealth-no-such-vhost"
	// RabbitMQ takes about 3s to refuse a password; a shorter probe
	// timeout must still say auth, not timeout.
	quick := wrongPassword
	quick.Timeout = time.Second
	for name, tg := range map[string]Target{"wrong password": wrongPassword, "wrong vhost": wrongVHost, "wrong password, 1s timeout": quick} {
		t.Run(name, func(t *testing.T) {
			r, c := requireAuthFailure(t, OpenRabbitMQ, tg, bad)
			if st := c.Stats(); st.Open != 0 {
				t.Fatalf("stats = %+v", st)
			}
			t.Logf("%s: %s", name, r.Error)
		})
	}
}

func TestRabbitMQBlocked(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's RabbitMQ")
	}
	tg, proxy, c := upViaProxy(t)

	// The broker sends connection.blocked on a resource alarm; raising a
	// real alarm would block every user of the shared broker.
	if err := proxy.InjectToClients(amqpFrame(0, 10, 60, "low on memory")); err != nil {
		t.Fatal(err)
	}
	var r Result
	wait.Eventually(t, 10*time.Second, "the blocked state", wait.Bool(func() bool {
		r = RunProbe(context.Background(), tg, c)
		return r.State != StateUp
	}))
	if r.State != StateDegraded || r.Reason != "connection blocked: low on memory" || r.DetailsMap()["blocked"] != true {
		t.Fatalf("blocked: got %s %q details %s", r.State, r.Reason, r.Details)
	}
	if err := proxy.InjectToClients(amqpFrame(0, 10, 61, "")); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "the unblocked state", wait.Bool(func() bool {
		return RunProbe(context.Background(), tg, c).State == StateUp
	}))
}

// amqpFrame encodes a method frame; a non-empty arg is one shortstr.
func amqpFrame(channel uint16, class, method uint16, arg string) []byte {
	payload := binary.BigEndian.AppendUint16(nil, class)
	payload = binary.BigEndian.AppendUint16(payload, method)
	if arg != "" {
		payload = append(payload, byte(len(arg)))
		payload = append(payload, arg...)
	}
	f := []byte{1}
	f = binary.BigEndian.AppendUint16(f, channel)
	f = binary.BigEndian.AppendUint32(f, uint32(len(payload)))
	f = append(f, payload...)
	return append(f, 0xCE)
}

// fakeManagement serves the two health checks for user/pass; localAlarm
// makes local-alarms fail with a memory alarm.
func fakeManagement(t *testing.T, user, pass string, localAlarm *atomic.Bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"not_authorized","reason":"Login failed"}`))
			return
		}
		switch r.URL.Path {
		case "/api/health/checks/alarms":
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		case "/api/health/checks/local-alarms":
			if localAlarm.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = w.Write([]byte(`{"status":"failed","reason":"There are alarms in effect in the node",` +
					`"alarms":[{"node":"rabbit@test","resource":"memory"}]}`))
				return
			}
			_, _ = w.Write([]byte(`{"status":"ok"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRabbitMQManagementChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's RabbitMQ")
	}
	const monPass = "mgmt-Secret-61"
	var alarm atomic.Bool
	mgmt := fakeManagement(t, "mon", monPass, &alarm)
	withURL := func(u string) Target {
		tg := localRabbitMQ()
		tg.ManagementURL = u
		return tg
	}
	host := strings.TrimPrefix(mgmt.URL, "http://")

	tg := withURL("http://mon:" + monPass + "@" + host + "/")
	c := openForTest(t, OpenRabbitMQ, tg)
	r := requireProbe(t, tg, c, StateUp, ErrKindNone)
	if f, _ := c.Probe(context.Background()); len(f.(RabbitMQFacts).Management) != 2 {
		t.Fatalf("management checks = %+v", f.(RabbitMQFacts).Management)
	}

	alarm.Store(true)
	r = requireProbe(t, tg, c, StateDegraded, ErrKindNone)
	if want := "local-alarms: There are alarms in effect in the node: memory on rabbit@test"; r.Reason != want {
		t.Fatalf("reason = %q, want %q", r.Reason, want)
	}
	requireNoLeak(t, r, monPass)

	for name, u := range map[string]string{
		"wrong management password": "http://mon:wrong-" + monPass + "@" + host,
		"management unreachable":    "http://mon:" + monPass + "@127.0.0.1:" + strconv.Itoa(servers.FreePort(t)),
	} {
		tg := withURL(u)
		r := requireOpenProbe(t, OpenRabbitMQ, tg, StateDegraded, ErrKindNone)
		if !strings.Contains(r.Reason, "management API") {
			t.Fatalf("%s: reason = %q", name, r.Reason)
		}
		requireNoLeak(t, r, monPass)
		t.Logf("%s: %s", name, r.Reason)
	}

	if _, err := OpenRabbitMQ(context.Background(), withURL("ftp://mon:"+monPass+"@x")); Classify(err) != ErrKindConfig || strings.Contains(err.Error(), monPass) {
		t.Fatalf("bad management URL: %v", err)
	}
}

func TestRabbitMQWatchNoticesDrop(t *testing.T) {
	if testing.Short() {
		t.Skip("needs the machine's RabbitMQ")
	}
	tg, proxy, c := upViaProxy(t)
	lost := watchForTest(t, c)
	rc := c.(*rabbitClient)

	for round := 1; round <= 2; round++ {
		requireLossNoticed(t, round, lost, "the watcher to wait on the connection", func() bool {
			rc.mu.Lock()
			defer rc.mu.Unlock()
			return rc.sess != nil && rc.sess.alive() && rc.sess.watched.Load()
		}, proxy.Cut)
		// The broker itself is fine: the next probe reconnects.
		requireProbe(t, tg, c, StateUp, ErrKindNone)
	}
	if n := proxy.Accepted(); n != 3 {
		t.Fatalf("connections = %d, want 3 (one per cut plus the first)", n)
	}
	requireNoMoreLosses(t, lost)
}
