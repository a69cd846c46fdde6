package probes

// The shared test helpers (probe_helpers_test.go), for the external tests.
var (
	OpenForTest      = openForTest
	RequireProbe     = requireProbe
	RequireOpenProbe = requireOpenProbe
	RunHealthCases   = runHealthCases
)
