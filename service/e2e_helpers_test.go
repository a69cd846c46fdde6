package service_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/apiclient"
	"github.com/dbhealth/database-service/testsupport/promtest"
	"github.com/dbhealth/database-service/testsupport/wait"
	"github.com/dbhealth/database-service/testsupport/webtest"
)

// waitLimit bounds every wait of the end-to-end tests: generous for a
// loaded 2-core machine running -race, far below the package's budget.
const waitLimit = 20 * time.Second

// waitFor polls cond until it reports true, failing the test after limit
// with the last state cond described.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() (bool, string)) {
	t.Helper()
	wait.Eventually(t, limit, what, cond)
}

// httpClient is the client of every non-streaming request.
var httpClient = &http.Client{Timeout: 15 * time.Second}

// response is one complete HTTP answer.
type response = webtest.Response

// call sends one request and reads the whole answer.
func call(method, url string, header http.Header, body io.Reader) (response, error) {
	return webtest.Do(httpClient, method, url, header, body)
}

// fetchJSON GETs url and decodes a 200 JSON answer into v.
func fetchJSON(url string, v any) error {
	res, err := call(http.MethodGet, url, nil, nil)
	if err != nil {
		return err
	}
	if res.Status != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", url, res.Status, res.Body)
	}
	if err := json.Unmarshal(res.Body, v); err != nil {
		return fmt.Errorf("GET %s: %w: %s", url, err, res.Body)
	}
	return nil
}

// jsonOK decodes a 200 JSON answer into v.
func jsonOK(res response, v any) error {
	if res.Status != http.StatusOK {
		return fmt.Errorf("status %d: %s", res.Status, res.Body)
	}
	if err := json.Unmarshal(res.Body, v); err != nil {
		return fmt.Errorf("%w: %s", err, res.Body)
	}
	return nil
}

// mustFetchJSON is fetchJSON failing the test.
func mustFetchJSON(t *testing.T, url string, v any) {
	t.Helper()
	if err := fetchJSON(url, v); err != nil {
		t.Fatal(err)
	}
}

// Response shapes, as other programs read them.
type (
	statusBody  = apiclient.Status
	statusItem  = apiclient.StatusItem
	alertsBody  = apiclient.Alerts
	alertItem   = apiclient.Alert
	historyBody = apiclient.History
	historyItem = apiclient.HistoryItem
	errorBody   = apiclient.Error
)

// sseEvent is one event of a Server-Sent Events stream.
type sseEvent struct {
	ID, Type, Data string
}

// sseStream is a client of GET /api/database/events reading in the
// background until the test ends.
type sseStream struct {
	connected chan struct{}
	done      chan struct{}

	mu     sync.Mutex
	events []sseEvent
	raw    strings.Builder
	header http.Header
	err    error
}

// openSSE connects to url and waits until the server has subscribed the
// stream (its ": connected" comment).
func openSSE(t *testing.T, url string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &sseStream{connected: make(chan struct{}), done: make(chan struct{})}
	t.Cleanup(func() { cancel(); <-s.done })
	go s.read(ctx, url)
	select {
	case <-s.connected:
	case <-s.done:
		t.Fatalf("event stream %s ended before it connected: %v", url, s.error())
	case <-time.After(waitLimit):
		t.Fatalf("event stream %s did not connect within %v", url, waitLimit)
	}
	return s
}

func (s *sseStream) read(ctx context.Context, url string) {
	defer close(s.done)
	fail := func(err error) {
		s.mu.Lock()
		s.err = err
		s.mu.Unlock()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fail(err)
		return
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		fail(err)
		return
	}
	defer res.Body.Close()
	s.mu.Lock()
	s.header = res.Header.Clone()
	s.mu.Unlock()
	if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/event-stream") {
		b, _ := io.ReadAll(res.Body)
		fail(fmt.Errorf("status %d, content type %q: %s", res.StatusCode, ct, b))
		return
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var cur sseEvent
	var data []string
	for sc.Scan() {
		line := sc.Text()
		s.mu.Lock()
		s.raw.WriteString(line)
		s.raw.WriteByte('\n')
		s.mu.Unlock()
		switch {
		case line == ": connected":
			close(s.connected)
		case line == "":
			if len(data) > 0 || cur.Type != "" {
				cur.Data = strings.Join(data, "\n")
				s.mu.Lock()
				s.events = append(s.events, cur)
				s.mu.Unlock()
			}
			cur, data = sseEvent{}, nil
		case strings.HasPrefix(line, "id:"):
			cur.ID = strings.TrimSpace(strings.TrimPrefix(line, "id:"))
		case strings.HasPrefix(line, "event:"):
			cur.Type = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		fail(err)
	}
}

func (s *sseStream) error() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// snapshot returns the events received so far.
func (s *sseStream) snapshot() []sseEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sseEvent(nil), s.events...)
}

// transitions decodes the StateChanged events received so far, failing
// the test on a malformed one.
func (s *sseStream) transitions(t *testing.T) []events.StateChanged {
	t.Helper()
	var out []events.StateChanged
	for _, ev := range s.snapshot() {
		if ev.Type != events.TypeStateChanged {
			continue
		}
		var env events.Envelope
		if err := json.Unmarshal([]byte(ev.Data), &env); err != nil {
			t.Fatalf("SSE event %s: %v: %s", ev.ID, err, ev.Data)
		}
		if env.ID != ev.ID || env.Type != ev.Type {
			t.Fatalf("SSE event id/type %s/%s, envelope %s/%s", ev.ID, ev.Type, env.ID, env.Type)
		}
		sc, err := env.StateChanged()
		if err != nil {
			t.Fatalf("SSE event %s: %v", ev.ID, err)
		}
		out = append(out, sc)
	}
	return out
}

// metricSum sums the samples of the metric called name in a Prometheus
// text exposition whose labels include every given `key="value"` pair.
// found is false when no sample matched.
func metricSum(text, name string, labels ...string) (sum float64, found bool) {
	return promtest.Sum(text, name, promtest.Labels(labels...))
}

// waitOneAlert waits until base lists exactly one alert, in state, and
// returns it.
func waitOneAlert(t *testing.T, base, state string) alertItem {
	t.Helper()
	var alert alertItem
	waitFor(t, "one "+state+" alert at "+base, waitLimit, func() (bool, string) {
		var ab alertsBody
		if err := fetchJSON(base+"/api/database/alerts", &ab); err != nil {
			return false, err.Error()
		}
		if len(ab.Alerts) != 1 || ab.Alerts[0].State != state {
			return false, fmt.Sprintf("%+v", ab.Alerts)
		}
		alert = ab.Alerts[0]
		return true, ""
	})
	return alert
}
