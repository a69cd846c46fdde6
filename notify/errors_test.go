package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"testing"
	"time"
)

func TestHTTPErrorClassification(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		code       int
		retryAfter string
		want       Class
		wantAfter  time.Duration
	}{
		{200, "", 0, 0},
		{204, "", 0, 0},
		{400, "", ClassPermanent, 0},
		{401, "", ClassPermanent, 0},
		{404, "", ClassPermanent, 0},
		{408, "", ClassRetryable, 0},
		{410, "", ClassGone, 0},
		{429, "7", ClassRetryable, 7 * time.Second},
		{429, "", ClassRetryable, 0},
		{500, "", ClassRetryable, 0},
		{503, "120", ClassRetryable, 2 * time.Minute},
		{503, now.Add(90 * time.Second).Format(http.TimeFormat), ClassRetryable, 90 * time.Second},
		{503, "soon", ClassRetryable, 0},
		{400, "5", ClassPermanent, 0},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d_%s", c.code, c.retryAfter), func(t *testing.T) {
			h := http.Header{}
			if c.retryAfter != "" {
				h.Set("Retry-After", c.retryAfter)
			}
			err := HTTPError(c.code, h, "body\nsecond line", now)
			if c.want == 0 {
				if err != nil {
					t.Fatalf("HTTPError(%d) = %v, want nil", c.code, err)
				}
				return
			}
			e := Classify(err)
			if e.Class != c.want || e.RetryAfter != c.wantAfter || e.StatusCode != c.code {
				t.Fatalf("HTTPError(%d) = %+v, want class %v retry after %v", c.code, e, c.want, c.wantAfter)
			}
			if !errors.Is(err, ErrStatus) {
				t.Errorf("%v does not wrap ErrStatus", err)
			}
			if e.Gone() != (c.want == ClassGone) || e.Retryable() != (c.want == ClassRetryable) || e.Permanent() == e.Retryable() {
				t.Errorf("predicates of %v inconsistent", e)
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{" 30 ", 30 * time.Second, true},
		{"-1", 0, false},
		{"", 0, false},
		{"1.5", 0, false},
		{"999999999", MaxRetryAfter, true},
		{"Tue, 01 Dec 2026 12:00:10 GMT", 10 * time.Second, true},
		{"Tuesday, 01-Dec-26 12:01:00 GMT", time.Minute, true},
		{"Tue, 01 Dec 2026 11:00:00 GMT", 0, true},
		{"Wed, 01 Dec 2027 11:00:00 GMT", MaxRetryAfter, true},
	}
	for _, c := range cases {
		got, ok := ParseRetryAfter(c.in, now)
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestClassify(t *testing.T) {
	typed := &Error{Class: ClassGone, StatusCode: 410, Err: errors.New("x")}
	_, dialErr := net.Dial("tcp", "127.0.0.1:1")
	cases := []struct {
		name string
		err  error
		want Class
	}{
		{"typed wrapped", fmt.Errorf("ctx: %w", typed), ClassGone},
		{"deadline", fmt.Errorf("post: %w", context.DeadlineExceeded), ClassRetryable},
		{"canceled", context.Canceled, ClassRetryable},
		{"dial", dialErr, ClassRetryable},
		{"plain", errors.New("template: bad"), ClassPermanent},
	}
	for _, c := range cases {
		if got := Classify(c.err); got.Class != c.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", c.name, c.err, got.Class, c.want)
		}
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
	if got := Classify(fmt.Errorf("w: %w", typed)); got != typed {
		t.Errorf("Classify did not return the typed error in the chain: %v", got)
	}
}
