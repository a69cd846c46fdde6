package projections_test

import (
	"testing"

	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
)

// The domain core keeps its own threshold defaults (it does not import
// probes); they must be the ones a probes.Target falls back to.
func TestThresholdDefaultsAgreeWithProbes(t *testing.T) {
	if projections.DefaultFailureThreshold != probes.DefaultFailureThreshold ||
		projections.DefaultSuccessThreshold != probes.DefaultSuccessThreshold {
		t.Fatalf("projections %d/%d, probes %d/%d", projections.DefaultFailureThreshold, projections.DefaultSuccessThreshold,
			probes.DefaultFailureThreshold, probes.DefaultSuccessThreshold)
	}
}
