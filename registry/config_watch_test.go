package registry_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/dbhealth/database-service/registry"
	"github.com/dbhealth/database-service/testsupport/fakenacos"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// TestWatchConfigStaleReadLosesToPush holds a periodic read's answer (the
// old content) until after a push delivered newer content: the late read
// is discarded, never delivered over the push.
func TestWatchConfigStaleReadLosesToPush(t *testing.T) {
	fake := fakenacos.Start(t)
	fake.PublishConfig("stale.yaml", "", "v: 1")
	cfg := config(fake, 18102)
	cfg.ConfigResync = 100 * time.Millisecond
	// The held answer must come within the SDK's request timeout.
	cfg.Timeout = 6 * time.Second
	r, err := registry.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	_, configs := registry.CountSDKClients(r)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := r.NewConfigWatch("stale.yaml", "")
	if err != nil {
		t.Fatal(err)
	}
	if c, err := w.Read(ctx); err != nil || c != "v: 1" {
		t.Fatalf("Read = %q, %v", c, err)
	}
	got := make(chan string, 16)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx, func(c string) { got <- c }) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("WatchConfig: %v", err)
		}
	}()
	if c := <-got; c != "v: 1" {
		t.Fatalf("initial content %q", c)
	}
	// The SDK reads the entry for its new listener itself; that read, if
	// it were the one held below, would answer "v: 1" through the
	// listener after the push (the SDK's own race; the periodic read
	// repairs it within ConfigResync). Wait until the SDK's listen round
	// reports the content in its cache.
	wait.Eventually(t, 15*time.Second, "listener registered and in sync", wait.Bool(func() bool {
		return fake.ConfigListenersInSync("stale.yaml", "") == 1
	}))

	held, release := fake.HoldNext("ConfigQueryRequest")
	t.Cleanup(release)
	select {
	case <-held: // a periodic read has read "v: 1"; its answer waits
	case <-time.After(10 * time.Second):
		t.Fatal("no periodic read")
	}
	// Publish until a push is delivered (the SDK loses a push that lands
	// while its listen request is answered; the read that would catch it
	// is held).
	var want string
	for i := 2; want == ""; i++ {
		v := "v: " + strconv.Itoa(i)
		fake.PublishConfig("stale.yaml", "", v)
		select {
		case c := <-got:
			if c != v {
				t.Fatalf("pushed content %q, want %q", c, v)
			}
			want = v
		case <-time.After(time.Second):
			if i == 4 {
				t.Fatal("no push delivered")
			}
		}
	}
	release()
	// The held read answers "v: 1" now; it and the reads after it must
	// not deliver anything but the pushed content.
	timeout := time.After(time.Second)
	for {
		select {
		case c := <-got:
			t.Fatalf("delivered %q after the push of %q", c, want)
		case <-timeout:
			if n := configs.Load(); n != 1 {
				t.Fatalf("%d config clients built, want 1", n)
			}
			return
		}
	}
}
