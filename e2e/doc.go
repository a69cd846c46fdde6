// Package e2e is the chaos suite, run by `make e2e` (and by .ci/run after
// `make test`): the built binary, three replicas, each scenario on a
// RabbitMQ node and a store redis-server of its own, killing whole
// processes (the broker, the store, a replica) and cutting the network
// through TCP proxies while a target (a redis-server of the suite's own)
// dies and comes back.
//
// Every scenario checks, on a durable queue bound to db.health.# the way a
// downstream service binds, exactly one DOWN and one UP for the incident
// (distinct transitions; redeliveries of one event id are counted and
// reported), no transition for the target that stayed up, the alerts read
// model the same on every replica with the incident's alert resolved, and
// every replica alive and ready at the end. It prints one line per
// scenario and ends with "N passed, N failed", with the detection and
// recovery times (p50, max) and how long the API took to show the dead
// target DOWN while events could not be published.
//
// The files carry the build tag e2e, so `go test ./...` skips the suite:
//
//	make e2e                     # PROBE_INTERVAL 2s, thresholds 2/2
//	E2E_INTERVAL=30s make e2e    # the service's defaults, a 30 s interval
package e2e
