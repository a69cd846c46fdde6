package stores

import "github.com/dbhealth/database-service/events"

// publishChecked publishes checks the embedded store applied as
// HealthChecked events (best effort). In process their only consumer is
// the live stream: while it wants none they are not even encoded.
func publishChecked(opts Options, hs []events.HealthChecked) {
	if opts.WantChecked == nil || !opts.WantChecked() {
		return
	}
	for _, h := range hs {
		env, err := events.NewHealthChecked(opts.Source, h)
		if err != nil {
			opts.Logger.Error("encode HealthChecked", "err", err)
			continue
		}
		opts.Publisher.PublishAsync(env)
	}
}
