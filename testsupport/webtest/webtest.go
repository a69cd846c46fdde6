// Package webtest sends HTTP requests in tests and holds their complete
// answers.
package webtest

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// Response is one complete HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends one request with client and reads the whole answer.
func Do(client *http.Client, method, url string, header http.Header, body io.Reader) (Response, error) {
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return Response{}, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := client.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// JSON decodes the body into a generic object, failing t when it is not
// one.
func (r Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.Body)
	}
	return m
}

// ErrorCode returns error.code and error.message of an error body, failing
// t when there is no error object.
func (r Response) ErrorCode(t testing.TB) (code, message string) {
	t.Helper()
	e, ok := r.JSON(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object in %s", r.Body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}
