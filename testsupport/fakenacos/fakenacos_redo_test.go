//go:build !race

package fakenacos

import (
	"testing"
)

// The SDK's own reconnect (and its redo of registrations) races inside the
// SDK, so this test only runs without -race (make test runs ^TestSDK without it).
func TestSDKRedoRegistersAgain(t *testing.T) {
	s := Start(t)
	c := naming(t, s, "", "")
	if okReg, err := c.RegisterInstance(register("10.0.0.6", 7000, nil)); err != nil || !okReg {
		t.Fatalf("RegisterInstance = %v, %v", okReg, err)
	}
	s.Down()
	eventually(t, "instance removed while down", func() bool { return len(s.Instances("svc", "G", "")) == 0 })
	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "SDK redo after Up", func() bool { return len(s.Instances("svc", "G", "")) == 1 })
	s.Stop()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "SDK redo after Restart", func() bool { return len(s.Instances("svc", "G", "")) == 1 })
}
