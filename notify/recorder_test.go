package notify

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
)

// recorded is one request a recorder received.
type recorded struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// recorder is an httptest server that records every request and answers
// with the next scripted reply (200 once the script runs out).
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []recorded
	replies []reply
}

type reply struct {
	code   int
	header map[string]string
	body   string
	delay  time.Duration
}

func newRecorder(t *testing.T, replies ...reply) *recorder {
	t.Helper()
	r := &recorder{replies: replies}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.Header.Clone(), body})
		rep := reply{code: 200}
		if len(r.replies) > 0 {
			rep, r.replies = r.replies[0], r.replies[1:]
		}
		r.mu.Unlock()
		if rep.delay > 0 {
			select {
			case <-time.After(rep.delay):
			case <-req.Context().Done():
			}
		}
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(rep.code)
		_, _ = io.WriteString(w, rep.body)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// sample is a firing notification for the tests.
func sample() Notification {
	return Notification{
		ID:        NewID("ops", "postgres/orders:1:3", StateFiring),
		Receiver:  "ops",
		AlertID:   "postgres/orders:1:3",
		State:     StateFiring,
		Severity:  events.SeverityCritical,
		Target:    events.TargetRef{Type: "postgres", Name: "orders"},
		Reason:    "connect: connection refused",
		StartedAt: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
		EventID:   "postgres/orders:1:3",
		Link:      "http://dbhealth.example/v1/alerts/postgres%2Forders:1:3",
	}
}

func resolvedSample() Notification {
	n := sample()
	at := n.StartedAt.Add(5 * time.Minute)
	n.State, n.ResolvedAt, n.EventID = StateResolved, &at, "postgres/orders:1:4"
	n.ID = NewID(n.Receiver, n.AlertID, n.State)
	n.Reason = "ok"
	return n
}
