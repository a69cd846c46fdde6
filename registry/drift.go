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
// heartbeat tick). A drift that comes back after each registration (a
// server that rewrites the instance) doubles the pause up to
// maxDriftPause, and is logged at its first three and then every 64th.
const (
	driftPause    = time.Second
	maxDriftPause = time.Minute
)

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
	r.mu.Lock()
	if len(diff) == 0 {
		r.driftStreak = 0
		r.mu.Unlock()
		return
	}
	r.driftStreak++
	streak := r.driftStreak
	r.mu.Unlock()
	if streak <= 3 || streak%64 == 0 {
		r.logger.Warn("nacos holds another copy of this instance; registering again", "differs", diff, "times", streak)
	}
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

// driftGate paces the session's re-registrations after drifts; streak
// reads how many drifts in a row the pushes showed.
type driftGate struct {
	last    time.Time
	pending bool
	streak  func() int
}

// pause is driftPause doubled for each drift in a row after the first, up
// to maxDriftPause.
func (g *driftGate) pause() time.Duration {
	p := driftPause
	for n := g.streak(); n > 1 && p < maxDriftPause; n-- {
		p *= 2
	}
	return min(p, maxDriftPause)
}

// now reports whether to register again now; otherwise the drift waits
// for a later tick.
func (g *driftGate) now() bool {
	if time.Since(g.last) < g.pause() {
		g.pending = true
		return false
	}
	g.last, g.pending = time.Now(), false
	return true
}

// onTick reports whether a drift deferred earlier is due.
func (g *driftGate) onTick() bool {
	if !g.pending || time.Since(g.last) < g.pause() {
		return false
	}
	g.last, g.pending = time.Now(), false
	return true
}

// streak is how many pushes in a row showed a drift.
func (r *Registry) streak() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.driftStreak
}
