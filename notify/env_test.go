package notify

import (
	"testing"
	"time"
)

func TestDeliveryEnv(t *testing.T) {
	env := func(k, v string) func(string) string {
		return func(name string) string {
			if name == k {
				return v
			}
			return ""
		}
	}
	for _, c := range []struct {
		v    string
		want int
		bad  bool
	}{{"", DefaultMaxAttempts, false}, {"3", 3, false}, {"0", 0, true}, {"x", 0, true}} {
		got, err := MaxAttemptsFromEnv(env("ALERT_MAX_ATTEMPTS", c.v))
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ALERT_MAX_ATTEMPTS=%q: %d, %v", c.v, got, err)
		}
	}
	for _, c := range []struct {
		v    string
		want time.Duration
		bad  bool
	}{{"", DefaultRepeatInterval, false}, {"30m", 30 * time.Minute, false}, {"0", -1, false}, {"-1h", 0, true}, {"soon", 0, true}} {
		got, err := RepeatIntervalFromEnv(env("ALERT_REPEAT_INTERVAL", c.v))
		if (err != nil) != c.bad || got != c.want {
			t.Errorf("ALERT_REPEAT_INTERVAL=%q: %v, %v", c.v, got, err)
		}
	}
	if _, err := NewWorker(nil, nil, WorkerOptions{Owner: "a"}); err == nil {
		t.Error("NewWorker without a log")
	}
	if _, err := NewWorker(&LocalLog{}, &Receivers{}, WorkerOptions{Owner: "a", Lease: time.Second, AttemptTimeout: 2 * time.Second}); err == nil {
		t.Error("a lease shorter than the attempt timeout was accepted")
	}
}
