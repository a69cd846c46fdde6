package registry

import (
	"slices"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

func TestDriftFields(t *testing.T) {
	in := model.Instance{Weight: 1, Enable: true, Metadata: map[string]string{"a": "1", "b": "2"}}
	tests := []struct {
		name     string
		weight   float64
		enabled  bool
		metadata map[string]string
		want     []string
	}{
		{"same", 1, true, map[string]string{"a": "1", "b": "2"}, nil},
		{"weight", 2, true, map[string]string{"a": "1", "b": "2"}, []string{"weight"}},
		{"enabled", 1, false, map[string]string{"a": "1", "b": "2"}, []string{"enabled"}},
		{"value", 1, true, map[string]string{"a": "1", "b": "3"}, []string{"metadata.b"}},
		{"missing and extra", 1, true, map[string]string{"a": "1", "c": ""}, []string{"metadata.b", "metadata.c"}},
	}
	for _, tt := range tests {
		if got := driftFields(in, tt.weight, tt.enabled, tt.metadata); !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A drift that keeps coming back waits twice as long each time, up to a
// minute.
func TestDriftGateBacksOff(t *testing.T) {
	streak := 0
	g := driftGate{streak: func() int { return streak }}
	for _, c := range []struct {
		streak int
		want   time.Duration
	}{{0, time.Second}, {1, time.Second}, {2, 2 * time.Second}, {3, 4 * time.Second}, {6, 32 * time.Second}, {7, time.Minute}, {500, time.Minute}} {
		streak = c.streak
		if got := g.pause(); got != c.want {
			t.Errorf("streak %d: pause %v, want %v", c.streak, got, c.want)
		}
	}
	streak = 1
	if !g.now() {
		t.Fatal("the first drift waits")
	}
	if g.now() || !g.pending {
		t.Fatal("a second drift at once is not deferred")
	}
}
