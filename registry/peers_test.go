package registry_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients/naming_client"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"

	"github.com/dbhealth/database-service/registry"
	"github.com/dbhealth/database-service/testsupport/fakenacos"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// callbackTap is a naming client whose subscription callback the test
// can call itself, as the SDK does when it delivers an older push last.
type callbackTap struct {
	naming_client.INamingClient
	mu sync.Mutex
	cb func([]model.Instance, error)
}

func (c *callbackTap) Subscribe(p *vo.SubscribeParam) error {
	c.mu.Lock()
	c.cb = p.SubscribeCallback
	c.mu.Unlock()
	return c.INamingClient.Subscribe(p)
}

func (c *callbackTap) deliver(in []model.Instance) {
	c.mu.Lock()
	cb := c.cb
	c.mu.Unlock()
	cb(in, nil)
}

// TestPeersRecoverFromAStaleCallback: the SDK runs the callbacks of
// concurrent pushes concurrently, so a list older than the newest can be
// the last one delivered. The registry takes the peers from the SDK's
// cache (which keeps the newest) at every heartbeat.
func TestPeersRecoverFromAStaleCallback(t *testing.T) {
	fake := fakenacos.Start(t)
	tap := &callbackTap{}
	ra, err := registry.New(config(fake, 18103), nil)
	if err != nil {
		t.Fatal(err)
	}
	registry.WrapNaming(ra, func(cl naming_client.INamingClient) naming_client.INamingClient {
		tap.INamingClient = cl
		return tap
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ra.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; ra.Close() })
	start(t, config(fake, 18104))
	wait.Eventually(t, 10*time.Second, "a sees b", wait.Bool(func() bool { return len(ra.Status().Peers) == 1 }))

	// The stale list: a alone, as before b registered.
	tap.deliver(fake.Instances(service, "", "")[:1])
	if n := len(ra.Status().Peers); n != 0 {
		t.Fatalf("%d peers right after the stale callback, want it applied (0)", n)
	}
	wait.Eventually(t, 2*time.Second, "b back among the peers within a heartbeat", wait.Bool(func() bool {
		p := ra.Status().Peers
		return len(p) == 1 && p[0].Port == 18104
	}))
}
