package mute

import (
	"encoding/json"
	"testing"
	"time"
)

func TestSilenceStatus(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := Silence{StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	tests := []struct {
		at   time.Time
		want string
	}{
		{t0.Add(-time.Nanosecond), StatusPending},
		{t0, StatusActive},
		{t0.Add(59 * time.Minute), StatusActive},
		{t0.Add(time.Hour - time.Nanosecond), StatusActive},
		{t0.Add(time.Hour), StatusExpired},
		{t0.Add(48 * time.Hour), StatusExpired},
	}
	for _, tt := range tests {
		if got := s.StatusAt(tt.at); got != tt.want {
			t.Errorf("StatusAt(%v) = %q, want %q", tt.at, got, tt.want)
		}
		if got := s.ActiveAt(tt.at); got != (tt.want == StatusActive) {
			t.Errorf("ActiveAt(%v) = %v", tt.at, got)
		}
	}
	got := WithStatus([]Silence{s}, t0)
	if got[0].Status != StatusActive || s.Status != "" {
		t.Fatalf("WithStatus: %q (input %q)", got[0].Status, s.Status)
	}
}

func TestExpire(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := Silence{StartsAt: t0, EndsAt: t0.Add(time.Hour)}
	now := t0.Add(10 * time.Minute)
	e, changed := expire(s, now)
	if !changed || !e.EndsAt.Equal(now) || !e.StartsAt.Equal(t0) || e.StatusAt(now) != StatusExpired {
		t.Fatalf("active: %+v %v", e, changed)
	}
	if _, changed := expire(e, now.Add(time.Minute)); changed {
		t.Fatal("expired again: want no change")
	}
	e, _ = expire(s, t0.Add(-time.Hour))
	if !e.StartsAt.Equal(t0.Add(-time.Hour)) || !e.EndsAt.Equal(e.StartsAt) || e.ActiveAt(t0) {
		t.Fatalf("pending: %+v", e)
	}
}

func TestSilenceJSON(t *testing.T) {
	in := `{"id":"x","matchers":[{"name":"name","value":"pg"}],"startsAt":"2026-12-01T10:00:00Z","endsAt":"2026-12-01T11:00:00Z","createdBy":"ann","comment":"upgrade"}`
	var s Silence
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if !s.Matchers[0].IsEqual || s.CreatedBy != "ann" || s.EndsAt.Sub(s.StartsAt) != time.Hour {
		t.Fatalf("%+v", s)
	}
}
