//go:build !race

package fakenacos

import (
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/dbhealth/database-service/testsupport/wait"
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
	wait.Eventually(t, 10*time.Second, "instance removed while down", wait.Bool(func() bool { return len(s.Instances("svc", "G", "")) == 0 }))
	if err := s.Up(); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "SDK redo after Up", wait.Bool(func() bool { return len(s.Instances("svc", "G", "")) == 1 }))
	s.Stop()
	if err := s.Restart(); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "SDK redo after Restart", wait.Bool(func() bool { return len(s.Instances("svc", "G", "")) == 1 }))
}

// TestSDKFailNext: the next n requests of a type fail; the connection
// stays. The SDK's recovery from failed requests races (its status is read
// unsynchronised), so this runs without -race only.
func TestSDKFailNext(t *testing.T) {
	s := Start(t)
	c := naming(t, s, "", "")
	s.FailNext("ServiceListRequest", 3) // one SDK call, three attempts
	list := func() error {
		_, err := c.GetAllServicesInfo(vo.GetAllServiceInfoParam{GroupName: "G", PageNo: 1, PageSize: 10})
		return err
	}
	if err := list(); err == nil {
		t.Fatal("failed requests answered")
	}
	wait.Eventually(t, 10*time.Second, "the client connected again", wait.Bool(c.ServerHealthy))
	if err := list(); err != nil {
		t.Fatalf("after the failures: %v", err)
	}
	if n := s.Connections(); n != 1 {
		t.Fatalf("%d connections, want the one", n)
	}
}
