package api_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/eventtest"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	id, event, data string
	comment         string
}

// sseReader reads events from a stream.
type sseReader struct {
	t  *testing.T
	sc *bufio.Scanner
}

// next returns the next event or comment block; ok is false at the end.
func (r *sseReader) next() (sseEvent, bool) {
	var ev sseEvent
	seen := false
	for r.sc.Scan() {
		line := r.sc.Text()
		if line == "" {
			if seen {
				return ev, true
			}
			continue
		}
		seen = true
		switch {
		case strings.HasPrefix(line, ":"):
			ev.comment = strings.TrimSpace(line[1:])
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
	return ev, false
}

// nextEvent skips comments and retry lines.
func (r *sseReader) nextEvent() (sseEvent, bool) {
	for {
		ev, ok := r.next()
		if !ok || ev.event != "" {
			return ev, ok
		}
	}
}

// openStream connects to the event stream; cancel disconnects.
func openStream(t *testing.T, e *env, query string) (*sseReader, *http.Response, context.CancelFunc) {
	t.Helper()
	return openStreamQuery(t, e, query, nil)
}

// openStreamWith connects with extra request headers (a token).
func openStreamWith(t *testing.T, e *env, header map[string]string) (*sseReader, *http.Response, context.CancelFunc) {
	t.Helper()
	return openStreamQuery(t, e, "", header)
}

func openStreamQuery(t *testing.T, e *env, query string, header map[string]string) (*sseReader, *http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.http.URL+"/api/database/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); res.Body.Close() })
	validate(t, req, response{Status: res.StatusCode, Header: res.Header})
	r := &sseReader{t: t, sc: bufio.NewScanner(res.Body)}
	if ev, ok := r.next(); !ok || ev.comment != "connected" {
		t.Fatalf("first block %+v %v", ev, ok)
	}
	return r, res, cancel
}

func testEvents(t *testing.T) (checked, changed events.Envelope) {
	t.Helper()
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	h := events.HealthChecked{Target: events.TargetRef{Type: "elasticsearch", Name: "search"}, State: "DOWN",
		LatencyMS: 12, ErrorKind: "status", Error: "cluster red", CheckedAt: at, Slot: at.UnixMilli(), Prober: "replica-a"}
	s := eventtest.Transition(h, "UP", 4)
	s.Reason = "cluster red"
	return eventtest.Checked(t, "replica-a", h), eventtest.Changed(t, "replica-a", s)
}

func TestEventStreamFilters(t *testing.T) {
	checked, changed := testEvents(t)
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{events.TypeHealthChecked, events.TypeStateChanged}},
		{"?type=state_changed", []string{events.TypeStateChanged}},
		{"?type=checked", []string{events.TypeHealthChecked}},
		{"?type=" + events.TypeStateChanged, []string{events.TypeStateChanged}},
		{"?type=checked,state_changed", []string{events.TypeHealthChecked, events.TypeStateChanged}},
		{"?type=checked&type=state_changed", []string{events.TypeHealthChecked, events.TypeStateChanged}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			e := newEnv(t)
			r, res, _ := openStream(t, e, tt.query)
			if ct := res.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("Content-Type %q", ct)
			}
			wait.Eventually(t, 10*time.Second, "subscription", wait.Bool(func() bool { return e.fakes.stream.active() == 1 }))
			// The subscription asked for the filtered types; the fake
			// delivers everything anyway, so the API must filter too.
			if got := e.fakes.stream.types[0]; !slices.Equal(got, tt.want) {
				t.Errorf("subscribed to %v, want %v", got, tt.want)
			}
			e.fakes.stream.publish(checked)
			e.fakes.stream.publish(changed)
			for _, want := range tt.want {
				ev, ok := r.nextEvent()
				if !ok {
					t.Fatal("stream ended")
				}
				wantEnv := checked
				if want == events.TypeStateChanged {
					wantEnv = changed
				}
				if ev.event != want || ev.id != wantEnv.ID {
					t.Fatalf("got %s %s, want %s %s", ev.event, ev.id, want, wantEnv.ID)
				}
				got, err := events.Decode([]byte(ev.data))
				if err != nil {
					t.Fatalf("data is not an event: %v: %s", err, ev.data)
				}
				if got.ID != wantEnv.ID || got.Subject != "elasticsearch/search" {
					t.Errorf("decoded %+v", got)
				}
			}
			if len(tt.want) == 1 {
				// The filtered-out one never comes: a marker published
				// after it arrives next.
				marker := changed
				if tt.want[0] == events.TypeHealthChecked {
					marker = checked
				}
				marker.ID = "marker"
				e.fakes.stream.publish(marker)
				if ev, _ := r.nextEvent(); ev.id != "marker" {
					t.Errorf("after the filtered event: %+v", ev)
				}
			}
		})
	}
}

func TestEventStreamEndsOnDisconnect(t *testing.T) {
	e := newEnv(t)
	_, _, cancel := openStream(t, e, "?type=state_changed")
	wait.Eventually(t, 10*time.Second, "subscription", wait.Bool(func() bool { return e.fakes.stream.active() == 1 }))
	cancel()
	wait.Eventually(t, 10*time.Second, "unsubscribe after the client left", wait.Bool(func() bool { return e.fakes.stream.active() == 0 }))
	wait.Eventually(t, 10*time.Second, "sse gauge back to 0", wait.Bool(func() bool {
		fams := parseProm(t, e.get("/metrics").Body)
		v, ok := fams.Value("dbhealth_http_sse_clients", map[string]string{})
		return ok && v == 0
	}))
}

func TestEventStreamEndsOnShutdown(t *testing.T) {
	e := newEnv(t)
	r, _, _ := openStream(t, e, "")
	wait.Eventually(t, 10*time.Second, "subscription", wait.Bool(func() bool { return e.fakes.stream.active() == 1 }))
	e.server.StopStreams()
	for {
		if _, ok := r.next(); !ok {
			break
		}
	}
	wait.Eventually(t, 10*time.Second, "unsubscribe after shutdown", wait.Bool(func() bool { return e.fakes.stream.active() == 0 }))
}

func TestEventStreamHeartbeat(t *testing.T) {
	e := newEnv(t, func(o *api.Options, _ *api.Deps) { o.HeartbeatInterval = 10 * time.Millisecond })
	r, _, _ := openStream(t, e, "")
	ev, ok := r.next()
	if !ok || ev.comment != "heartbeat" {
		t.Fatalf("got %+v %v, want a heartbeat comment", ev, ok)
	}
}

func TestEventStreamSubscribeFails(t *testing.T) {
	e := newEnv(t)
	e.fakes.stream.failed = errWithSecret
	res := e.get("/api/database/events")
	if code, _ := res.ErrorCode(t); res.Status != 503 || code != "unavailable" {
		t.Errorf("%d %s", res.Status, code)
	}
}

func TestEventStreamThroughRun(t *testing.T) {
	// Run/Serve: a stream does not hold the graceful shutdown.
	f := newFakes()
	ln, stop, done := serveLoopback(t, f, api.Options{Addr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second})
	res, err := http.Get("http://" + ln.Addr().String() + "/api/database/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	wait.Eventually(t, 10*time.Second, "subscription", wait.Bool(func() bool { return f.stream.active() == 1 }))
	stop()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := io.ReadAll(res.Body); err != nil {
		t.Errorf("stream did not end cleanly: %v", err)
	}
}

// serveLoopback runs an API over f's fakes on a loopback port through
// Serve; stop ends it and done yields Serve's error.
func serveLoopback(t *testing.T, f *fakes, opts api.Options) (ln net.Listener, stop context.CancelFunc, done <-chan error) {
	t.Helper()
	s, err := api.New(f.deps(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	return ln, stop, errc
}

// A client that stops reading is dropped after StreamWriteTimeout instead
// of holding its stream (and the events queued for it) forever.
func TestEventStreamDropsStalledClient(t *testing.T) {
	f := newFakes()
	ln, stop, done := serveLoopback(t, f, api.Options{StreamWriteTimeout: 200 * time.Millisecond})
	defer func() { stop(); <-done }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	if _, err := io.WriteString(conn, "GET /api/database/events?type=state_changed HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "subscription", wait.Bool(func() bool { return f.stream.active() == 1 }))
	// Never read: 12 events of 1 MB fill every socket buffer on the way.
	_, changed := testEvents(t)
	sc, err := changed.StateChanged()
	if err != nil {
		t.Fatal(err)
	}
	sc.Reason = strings.Repeat("x", 1<<20)
	big, err := events.NewStateChanged("replica-a", sc)
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		f.stream.publish(big)
	}
	wait.Eventually(t, 10*time.Second, "the stalled stream to be dropped", wait.Bool(func() bool { return f.stream.active() == 0 }))
}

// Past the caps on open streams (in all, and per client address) a new
// stream is refused with the error envelope; closing one frees its slot.
func TestEventStreamCaps(t *testing.T) {
	for _, tc := range []struct {
		name           string
		max, perClient int
		want           string
	}{
		{"per client", 10, 2, "too many event streams are open from this client address; close one first"},
		{"in all", 2, 10, "too many event streams are open on this replica; retry later"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(o *api.Options, _ *api.Deps) { o.MaxStreams, o.MaxStreamsPerClient = tc.max, tc.perClient })
			_, _, first := openStream(t, e, "")
			openStream(t, e, "")
			res := e.get("/api/database/events")
			if code, msg := res.ErrorCode(t); res.Status != 503 || code != "unavailable" || msg != tc.want {
				t.Fatalf("third stream: %d %s %q", res.Status, code, msg)
			}
			first()
			wait.Eventually(t, 10*time.Second, "the first stream's slot", wait.Bool(func() bool { return e.fakes.stream.active() == 1 }))
			openStream(t, e, "") // fails the test unless it connects
		})
	}
}

// ?target= keeps only the events of those targets; a bad one is a 400
// naming the parameter.
func TestEventStreamTargetFilter(t *testing.T) {
	checked, changed := testEvents(t) // of elasticsearch/search
	e := newEnv(t)
	r, _, _ := openStream(t, e, "?type=state_changed&target=redis/cache,elasticsearch/search")
	wait.Eventually(t, 10*time.Second, "subscription", wait.Bool(func() bool { return e.fakes.stream.active() == 1 }))
	other := changed
	other.ID, other.Subject = "other", "postgres/main"
	e.fakes.stream.publish(other)
	e.fakes.stream.publish(checked)
	e.fakes.stream.publish(changed)
	if ev, ok := r.nextEvent(); !ok || ev.id != changed.ID {
		t.Fatalf("first event %+v (%v), want the transition of elasticsearch/search only", ev, ok)
	}
	for _, q := range []string{"?target=redis", "?target=mysql/x", "?target=redis/", "?target=redis/a/b"} {
		res := e.get("/api/database/events" + q)
		if code, msg := res.ErrorCode(t); res.Status != 400 || code != "invalid_parameter" || !strings.Contains(msg, "target") {
			t.Errorf("%s: %d %s %q, want a 400 naming target", q, res.Status, code, msg)
		}
	}
}
