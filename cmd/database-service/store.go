package main

import (
	"github.com/dbhealth/database-service/events"
)

// publishChecks publishes checks the embedded store applied as
// HealthChecked events (best effort). In process their only consumer is
// the live stream: without a client asking for them they are not even
// encoded.
func (a *app) publishChecks(hs []events.HealthChecked) {
	if a.live == nil || !a.live.WantsChecked() {
		return
	}
	for _, h := range hs {
		env, err := events.NewHealthChecked(a.source(), h)
		if err != nil {
			a.log.Error("encode HealthChecked", "err", err)
			continue
		}
		a.bus.PublishAsync(env)
	}
}
