package mute

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// wantField checks err is a *FieldError naming field ("" for no error).
func wantField(t *testing.T, err error, field string) {
	t.Helper()
	if field == "" {
		if err != nil {
			t.Fatalf("want no error, got %v", err)
		}
		return
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("want a *FieldError for %q, got %v", field, err)
	}
	if fe.FieldName() != field {
		t.Fatalf("field %q (%v), want %q", fe.FieldName(), err, field)
	}
	if !strings.Contains(fe.Error(), field) || fe.Reason == "" {
		t.Fatalf("message %q does not name %q with a reason", fe.Error(), field)
	}
}

func TestSilenceValidate(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	eq := func(n, v string) Matcher { return Matcher{Name: n, Value: v, IsEqual: true} }
	ok := Silence{Matchers: []Matcher{eq("name", "pg")}, StartsAt: t0, EndsAt: t0.Add(time.Hour), CreatedBy: "ann"}
	tests := []struct {
		name  string
		edit  func(*Silence)
		field string
	}{
		{"valid", func(*Silence) {}, ""},
		{"no start is valid", func(s *Silence) { s.StartsAt = time.Time{} }, ""},
		{"no matchers", func(s *Silence) { s.Matchers = nil }, "matchers"},
		{"unknown name", func(s *Silence) { s.Matchers = append(s.Matchers, eq("host", "x")) }, "matchers[1].name"},
		{"bad regex", func(s *Silence) { s.Matchers[0] = Matcher{Name: "name", Value: "pg-(", IsRegex: true, IsEqual: true} }, "matchers[0].value"},
		{"empty equal value", func(s *Silence) { s.Matchers = append(s.Matchers, eq("type", "")) }, "matchers[1].value"},
		{"matches everything", func(s *Silence) { s.Matchers[0] = Matcher{Name: "name", Value: ".*", IsRegex: true, IsEqual: true} }, "matchers"},
		{"only negative", func(s *Silence) { s.Matchers[0] = Matcher{Name: "severity", Value: "critical"} }, "matchers"},
		{"negative and positive", func(s *Silence) { s.Matchers = append(s.Matchers, Matcher{Name: "severity", Value: "critical"}) }, ""},
		{"no end", func(s *Silence) { s.EndsAt = time.Time{} }, "endsAt"},
		{"end equals start", func(s *Silence) { s.EndsAt = s.StartsAt }, "endsAt"},
		{"end before start", func(s *Silence) { s.EndsAt = s.StartsAt.Add(-time.Minute) }, "endsAt"},
		{"no creator", func(s *Silence) { s.CreatedBy = " " }, "createdBy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			s.Matchers = append([]Matcher(nil), ok.Matchers...)
			tt.edit(&s)
			wantField(t, s.Validate(), tt.field)
		})
	}
}

func TestWindowValidate(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		w     Window
		field string
	}{
		{"one-off with end", Window{StartsAt: t0, EndsAt: t0.Add(time.Hour)}, ""},
		{"one-off with duration", Window{StartsAt: t0, Duration: time.Hour}, ""},
		{"recurring", Window{Cron: "30 2 * * *", Duration: time.Hour, TimeZone: "Europe/Berlin"}, ""},
		{"recurring descriptor", Window{Cron: "@daily", Duration: time.Hour}, ""},
		{"neither cron nor start", Window{Duration: time.Hour}, "starts_at"},
		{"one-off without end", Window{StartsAt: t0}, "duration"},
		{"one-off end before start", Window{StartsAt: t0, EndsAt: t0.Add(-time.Hour)}, "ends_at"},
		{"bad cron", Window{Cron: "61 * * * *", Duration: time.Hour}, "cron"},
		{"six fields", Window{Cron: "0 30 2 * * *", Duration: time.Hour}, "cron"},
		{"cron with zone", Window{Cron: "CRON_TZ=UTC 30 2 * * *", Duration: time.Hour}, "cron"},
		{"every", Window{Cron: "@every 1h", Duration: time.Hour}, "cron"},
		{"cron without duration", Window{Cron: "30 2 * * *"}, "duration"},
		{"cron negative duration", Window{Cron: "30 2 * * *", Duration: -time.Hour}, "duration"},
		{"unknown zone", Window{Cron: "30 2 * * *", Duration: time.Hour, TimeZone: "Mars/Olympus"}, "time_zone"},
		{"local zone", Window{Cron: "30 2 * * *", Duration: time.Hour, TimeZone: "Local"}, "time_zone"},
		{"bad matcher", Window{Cron: "30 2 * * *", Duration: time.Hour, Matchers: []Matcher{{Name: "kind", Value: "x", IsEqual: true}}}, "matchers[0].name"},
		{"bad source", Window{StartsAt: t0, Duration: time.Hour, Source: "nacos"}, "source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantField(t, tt.w.Validate(), tt.field)
		})
	}
}

func TestAckValidate(t *testing.T) {
	wantField(t, Ack{AlertID: "a", By: "ann"}.Validate(), "")
	wantField(t, Ack{By: "ann"}.Validate(), "alert_id")
	wantField(t, Ack{AlertID: "a"}.Validate(), "by")
}
