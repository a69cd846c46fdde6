package fakenacos

import (
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// TestHoldNext: the held config query answers the content of its arrival,
// after the release, even though the entry changed meanwhile.
func TestHoldNext(t *testing.T) {
	s := Start(t)
	s.PublishConfig("held", "G", "old")
	c := configClient(t, s)
	held, release := s.HoldNext("ConfigQueryRequest")
	t.Cleanup(release)
	got := make(chan string, 1)
	go func() {
		v, _ := c.GetConfig(vo.ConfigParam{DataId: "held", Group: "G"})
		got <- v
	}()
	select {
	case <-held:
	case <-time.After(5 * time.Second):
		t.Fatal("query not held")
	}
	s.PublishConfig("held", "G", "new")
	select {
	case v := <-got:
		t.Fatalf("answered %q before the release", v)
	case <-time.After(200 * time.Millisecond):
	}
	release()
	if v := <-got; v != "old" {
		t.Fatalf("held answer %q, want the content of its arrival", v)
	}
	if v, err := c.GetConfig(vo.ConfigParam{DataId: "held", Group: "G"}); err != nil || v != "new" {
		t.Fatalf("next query = %q, %v", v, err)
	}
}
