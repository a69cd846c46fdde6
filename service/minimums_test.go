package service_test

import (
	"testing"

	"github.com/dbhealth/database-service/config"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/projections/coord"
)

// The OUTBOX_CLAIM_IDLE minimum that config enforces is the publish
// timeout plus the relay's backoff that the wiring uses: if either grows,
// the minimum must follow, or a replica still publishing a transition
// could have it taken over and published twice.
func TestOutboxClaimIdleMinimumFollowsThePublisher(t *testing.T) {
	if want := bus.DefaultPublishTimeout + coord.DefaultRelayBackoff; config.MinOutboxClaimIdle < want {
		t.Errorf("config.MinOutboxClaimIdle = %v, below the publish timeout plus the relay backoff (%v)", config.MinOutboxClaimIdle, want)
	}
}
