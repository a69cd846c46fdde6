package registry

import (
	"maps"
	"slices"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

// The SDK re-registers its cached copy of the instance after every
// (re)connect, on its own goroutine. When that copy was taken before an
// Update, the stale instance lands after the update and Nacos keeps it.
// The subscription shows Nacos's view, so a push whose copy of this
// replica differs from the desired one is a drift, and the session
// registers again (at most once per driftPause, the rest on the next
// heartbeat tick).
const driftPause = time.Second

// checkDrift compares this replica's instance in a push with the desired
// one and signals the session when they differ. It runs on the SDK's push
// goroutine and never blocks.
func (r *Registry) checkDrift(instances []model.Instance) {
	var self *model.Instance
	for i := range instances {
		if instances[i].Ip == r.ip && int(instances[i].Port) == r.cfg.Port {
			self = &instances[i]
			break
		}
	}
	if self == nil || !r.isRegistered() {
		return
	}
	want := r.registerParam()
	diff := driftFields(*self, want.Weight, want.Enable, want.Metadata)
	if len(diff) == 0 {
		return
	}
	r.logger.Warn("nacos holds another copy of this instance; registering again", "differs", diff)
	select {
	case r.drift <- struct{}{}:
	default:
	}
}

// driftFields names what differs between an observed instance and the
// desired settings (metadata by key, never by value).
func driftFields(in model.Instance, weight float64, enabled bool, metadata map[string]string) []string {
	var diff []string
	if in.Weight != weight {
		diff = append(diff, "weight")
	}
	if in.Enable != enabled {
		diff = append(diff, "enabled")
	}
	keys := map[string]bool{}
	for k := range in.Metadata {
		keys[k] = true
	}
	for k := range metadata {
		keys[k] = true
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		got, ok1 := in.Metadata[k]
		w, ok2 := metadata[k]
		if got != w || ok1 != ok2 {
			diff = append(diff, "metadata."+k)
		}
	}
	return diff
}

// driftGate paces the session's re-registrations after drifts.
type driftGate struct {
	last    time.Time
	pending bool
}

// now reports whether to register again now; otherwise the drift waits
// for the next tick.
func (g *driftGate) now() bool {
	if time.Since(g.last) < driftPause {
		g.pending = true
		return false
	}
	g.last, g.pending = time.Now(), false
	return true
}

// onTick reports whether a drift deferred earlier is due.
func (g *driftGate) onTick() bool {
	if !g.pending || time.Since(g.last) < driftPause {
		return false
	}
	g.last, g.pending = time.Now(), false
	return true
}
