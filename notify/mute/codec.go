package mute

import (
	"encoding/json"
	"fmt"
	"slices"
)

// decodeAll decodes the JSON values of m in the order of their keys.
func decodeAll[T any](m map[string]string) ([]T, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		var v T
		if err := json.Unmarshal([]byte(m[k]), &v); err != nil {
			return nil, fmt.Errorf("mute: record %s: %w", k, err)
		}
		out = append(out, v)
	}
	return out, nil
}
