package registry

import (
	"slices"
	"testing"

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
