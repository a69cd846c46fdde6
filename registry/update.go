package registry

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
)

// Limits of an UpdateRequest.
const (
	MaxMetadataKeys     = 32
	MaxMetadataValueLen = 256
	MaxWeight           = 1000
)

var metadataKey = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// UpdateRequest changes the registered instance. Every field is optional.
// Metadata is merged into the custom metadata; an empty value removes a
// key. The reserved keys (version, replica_id, roles, started_at) cannot
// be set.
type UpdateRequest struct {
	Metadata map[string]string `json:"metadata,omitempty"`
	Weight   *float64          `json:"weight,omitempty"`
	Enabled  *bool             `json:"enabled,omitempty"`
}

// ValidationError is an UpdateRequest refused before anything was sent;
// Field names the offending field ("weight", "metadata",
// "metadata.<key>").
type ValidationError struct {
	Field   string
	Message string
}

// Error reads "registry: invalid <field>: <message>".
func (e *ValidationError) Error() string {
	return "registry: invalid " + e.Field + ": " + e.Message
}

// validate checks req on its own and against the current custom metadata
// (the key limit applies to the merged result).
func (req UpdateRequest) validate(current map[string]string) error {
	if req.Weight != nil {
		w := *req.Weight
		if math.IsNaN(w) || w < 0 || w > MaxWeight {
			return &ValidationError{Field: "weight", Message: fmt.Sprintf("must be between 0 and %d, got %v", MaxWeight, w)}
		}
	}
	keys := make([]string, 0, len(req.Metadata))
	for k := range req.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !metadataKey.MatchString(k) {
			return &ValidationError{Field: "metadata", Message: fmt.Sprintf("key %q must match [A-Za-z0-9._-]{1,64}", k)}
		}
		if slices.Contains(reservedKeys, k) {
			return &ValidationError{Field: "metadata." + k, Message: "reserved key, set by the service"}
		}
		if v := req.Metadata[k]; len(v) > MaxMetadataValueLen {
			return &ValidationError{Field: "metadata." + k, Message: fmt.Sprintf("value longer than %d characters (%d)", MaxMetadataValueLen, len(v))}
		}
	}
	if len(req.Metadata) > MaxMetadataKeys {
		return &ValidationError{Field: "metadata", Message: fmt.Sprintf("at most %d keys, got %d", MaxMetadataKeys, len(req.Metadata))}
	}
	n := len(current)
	for k, v := range req.Metadata {
		_, exists := current[k]
		switch {
		case v == "" && exists:
			n--
		case v != "" && !exists:
			n++
		}
	}
	if n > MaxMetadataKeys {
		return &ValidationError{Field: "metadata", Message: fmt.Sprintf("at most %d custom keys, the update makes %d", MaxMetadataKeys, n)}
	}
	return nil
}

// Update validates req, keeps it as the desired instance settings (applied
// again on every re-registration) and, when a session is connected, sends
// it to Nacos at once. It returns the new status; a *ValidationError when
// req is invalid (nothing changed); ErrRejected or the SDK's error when
// Nacos did not take it (the settings are kept and sent with the next
// registration); ErrDisabled when registration is off.
func (r *Registry) Update(ctx context.Context, req UpdateRequest) (Status, error) {
	if !r.cfg.Enabled {
		return r.Status(), ErrDisabled
	}
	r.mu.Lock()
	if err := req.validate(r.custom); err != nil {
		r.mu.Unlock()
		return r.Status(), err
	}
	for k, v := range req.Metadata {
		if v == "" {
			delete(r.custom, k)
		} else {
			r.custom[k] = v
		}
	}
	if req.Weight != nil {
		r.weight = *req.Weight
	}
	if req.Enabled != nil {
		r.enabled = *req.Enabled
	}
	cl, gen, connected := r.client, r.gen, r.state == StateConnected
	weight, enabled := r.weight, r.enabled
	r.mu.Unlock()
	r.logger.Info("registration update", "metadata_keys", len(req.Metadata), "weight", weight, "instance_enabled", enabled)
	if cl == nil || !connected {
		return r.Status(), nil
	}
	if err := r.registerOn(ctx, cl, gen); err != nil {
		return r.Status(), err
	}
	return r.Status(), nil
}
