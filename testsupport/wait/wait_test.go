package wait

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

func TestEventuallyReturnsOnceTheConditionHolds(t *testing.T) {
	var calls atomic.Int32
	Eventually(t, time.Second, "three calls", func() (bool, string) {
		return calls.Add(1) >= 3, "not yet"
	})
	if n := calls.Load(); n != 3 {
		t.Fatalf("cond called %d times, want 3", n)
	}
}

func TestEventuallyFailsWithTheLastState(t *testing.T) {
	rec := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Eventually(rec, 20*time.Millisecond, "never", func() (bool, string) { return false, "state 7" })
	}()
	<-done
	want := "timed out after 20ms waiting for never; last seen: state 7"
	if rec.msg != want {
		t.Fatalf("message = %q, want %q", rec.msg, want)
	}
}

func TestBool(t *testing.T) {
	ok, last := Bool(func() bool { return true })()
	if !ok || last != "" {
		t.Fatalf("Bool(true)() = %v, %q", ok, last)
	}
}

// recorder records Fatalf and ends the goroutine as testing.T does.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
