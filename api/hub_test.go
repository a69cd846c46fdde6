package api_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dbhealth/database-service/api"
	"github.com/dbhealth/database-service/events"
)

func TestHubFiltersAndDrops(t *testing.T) {
	h := api.NewHub()
	all, cancelAll, _ := h.Subscribe(t.Context(), nil)
	changed, cancelChanged, _ := h.Subscribe(t.Context(), []string{events.TypeStateChanged})
	defer cancelAll()
	defer cancelChanged()
	for range 300 { // more than a subscriber buffers: the rest is dropped
		_ = h.Handle(t.Context(), events.Envelope{Type: events.TypeHealthChecked})
	}
	_ = h.Handle(t.Context(), events.Envelope{Type: events.TypeStateChanged})
	if n := len(all); n != 256 {
		t.Errorf("the all-types subscriber holds %d events, want its 256 buffered", n)
	}
	if n := len(changed); n != 1 {
		t.Errorf("the state_changed subscriber holds %d events, want 1", n)
	}
	cancelAll()
	if _, open := <-drain(all); open {
		t.Error("channel not closed after cancel")
	}
}

// drain empties ch and returns it.
func drain(ch <-chan events.Envelope) <-chan events.Envelope {
	for range len(ch) {
		<-ch
	}
	return ch
}

func TestHubBindsCheckedWhileWanted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := api.NewHub()
		ctx, cancel := context.WithCancel(t.Context())
		var mu sync.Mutex
		var binds []bool
		got := func() []bool { mu.Lock(); defer mu.Unlock(); return slices.Clone(binds) }
		fail := true
		done := make(chan error)
		go func() {
			done <- h.BindChecked(ctx, func(_ context.Context, on bool) error {
				mu.Lock()
				defer mu.Unlock()
				if fail { // the first bind fails and is tried again
					fail = false
					return errors.New("broker down")
				}
				binds = append(binds, on)
				return nil
			}, func(error) {})
		}()
		_, unsub, _ := h.Subscribe(ctx, []string{events.TypeStateChanged})
		synctest.Wait()
		if b := got(); len(b) != 0 || h.WantsChecked() {
			t.Fatalf("binds %v for a subscriber without checks", b)
		}
		unsub()
		_, unsubChecked, _ := h.Subscribe(ctx, nil)
		synctest.Wait()
		time.Sleep(time.Second)
		synctest.Wait()
		unsubChecked()
		synctest.Wait()
		if b, want := got(), []bool{true, false}; !slices.Equal(b, want) {
			t.Errorf("binds %v, want %v", b, want)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("BindChecked = %v", err)
		}
	})
}
