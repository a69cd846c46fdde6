// Package hooktest is a webhook receiver for tests: it records every
// request, verifies its Standard Webhooks signature with an implementation
// of its own (not the service's), and answers with a scripted status.
package hooktest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Delivery is one request the receiver got.
type Delivery struct {
	ID, Timestamp, Signature string
	// Body is the decoded JSON payload.
	Body map[string]any
	// Status is what the receiver answered.
	Status int
}

// State is the notification's state in the payload (firing, resolved).
func (d Delivery) State() string { s, _ := d.Body["state"].(string); return s }

// Receiver is a recording webhook receiver.
type Receiver struct {
	URL    string
	secret []byte
	t      testing.TB

	mu     sync.Mutex
	got    []Delivery
	script []int // statuses to answer, in order; 200 after them
}

// New starts a receiver that verifies signatures made with secret (a
// whsec_ secret; empty: no verification).
func New(t testing.TB, secret string) *Receiver {
	t.Helper()
	r := &Receiver{t: t}
	if secret != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
		if err != nil {
			t.Fatalf("hooktest: bad secret: %v", err)
		}
		r.secret = key
	}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Hang is a status for Answer: the request gets no answer until the
// client gives up (its timeout, or its process dies).
const Hang = -1

// Answer makes the next requests get these statuses (then 200).
func (r *Receiver) Answer(statuses ...int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.script = append(r.script, statuses...)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	d := Delivery{ID: req.Header.Get("webhook-id"), Timestamp: req.Header.Get("webhook-timestamp"),
		Signature: req.Header.Get("webhook-signature"), Status: http.StatusOK}
	if err := json.Unmarshal(body, &d.Body); err != nil {
		r.t.Errorf("hooktest: body is not JSON: %v", err)
	}
	if r.secret != nil && !r.verify(d, body) {
		r.t.Errorf("hooktest: bad signature %q for %s", d.Signature, d.ID)
	}
	r.mu.Lock()
	if len(r.script) > 0 {
		d.Status, r.script = r.script[0], r.script[1:]
	}
	r.got = append(r.got, d)
	r.mu.Unlock()
	if d.Status == Hang {
		<-req.Context().Done()
		return
	}
	w.WriteHeader(d.Status)
}

// verify checks one of the space-separated v1 signatures: base64 of
// HMAC-SHA256(key, id + "." + timestamp + "." + body).
func (r *Receiver) verify(d Delivery, body []byte) bool {
	mac := hmac.New(sha256.New, r.secret)
	fmt.Fprintf(mac, "%s.%s.%s", d.ID, d.Timestamp, body)
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(d.Signature) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

// Deliveries is every request so far.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.got...)
}

// Accepted is the requests answered 2xx, by state.
func (r *Receiver) Accepted() map[string][]Delivery {
	out := map[string][]Delivery{}
	for _, d := range r.Deliveries() {
		if d.Status/100 == 2 {
			out[d.State()] = append(out[d.State()], d)
		}
	}
	return out
}
