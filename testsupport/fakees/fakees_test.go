package fakees_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/dbhealth/database-service/testsupport/fakees"
)

func TestHeadAndHeaders(t *testing.T) {
	s := fakees.New(t)
	res, err := http.Head(s.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get(fakees.ProductHeader) != "Elasticsearch" {
		t.Fatalf("HEAD /: %d, product header %q", res.StatusCode, res.Header.Get(fakees.ProductHeader))
	}
	s.SetProductHeader(false)
	res, err = http.Get(s.URL() + "/_cluster/health")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get(fakees.ProductHeader) != "" {
		t.Fatal("product header still sent")
	}
	if s.Requests() != 2 {
		t.Fatalf("Requests() = %d, want 2", s.Requests())
	}
}

func TestUnauthorizedBody(t *testing.T) {
	s := fakees.New(t)
	s.RequireBasicAuth("elastic", "pw")
	req, _ := http.NewRequest(http.MethodGet, s.URL()+"/_cluster/health", nil)
	req.SetBasicAuth("elastic", "nope")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Error struct {
			Type string `json:"type"`
		} `json:"error"`
		Status int `json:"status"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusUnauthorized || body.Status != 401 || body.Error.Type != "security_exception" {
		t.Fatalf("got %d %+v", res.StatusCode, body)
	}
	if res.Header.Get("WWW-Authenticate") == "" {
		t.Fatal("no WWW-Authenticate header")
	}
}

func TestCloseEndsDelayedAnswers(t *testing.T) {
	s := fakees.New(t)
	s.SetDelay(time.Hour)
	errc := make(chan error, 1)
	go func() {
		res, err := http.Get(s.URL() + "/")
		if err == nil {
			res.Body.Close()
		}
		errc <- err
	}()
	for s.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	done := make(chan struct{})
	go func() { s.Close(); s.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close blocked on a delayed answer")
	}
	<-errc
}
