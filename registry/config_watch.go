package registry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// WatchConfig delivers the content of a Nacos config entry (dataID in group
// of the registry's namespace) to onChange: once at start when the entry
// exists, then on every change pushed through the SDK's listener. It blocks
// until ctx is done and returns nil then; it returns an error only when no
// config client can be built. Registration need not be enabled, but
// servers must be configured.
//
// onChange is called from one goroutine, in order, only with content that
// differs from the last delivered, and never with empty content (an entry
// deleted or emptied leaves the consumer's configuration as it is). The
// entry is also read again every Config.ConfigResync: the SDK can lose a
// push that arrives while its listen request is being answered (it then
// marks the entry in sync over the push's mark).
func (r *Registry) WatchConfig(ctx context.Context, dataID, group string, onChange func(content string)) error {
	if dataID == "" {
		return errors.New("registry: config watch: empty data id")
	}
	if len(r.cfg.Servers) == 0 {
		return errors.New("registry: config watch: no nacos server")
	}
	if group == "" {
		group = r.cfg.Group
	}
	cl, err := clients.NewConfigClient(r.configParam())
	if err != nil {
		return fmt.Errorf("registry: config client: %w", err)
	}
	defer cl.CloseClient()
	log := r.logger.With("data_id", dataID, "group", group)

	pushed := make(chan string, 16)
	fetched := make(chan string, 1)
	var last [sha256.Size]byte
	delivered := false
	deliver := func(content, source string) {
		if content == "" {
			return
		}
		sum := sha256.Sum256([]byte(content))
		if delivered && sum == last {
			return
		}
		last, delivered = sum, true
		log.Info("nacos config received", "source", source, "bytes", len(content))
		onChange(content)
	}

	// fetch reads the entry off the watch loop; a read still running is not
	// started again.
	fetching := false
	fetch := func() {
		if fetching {
			return
		}
		fetching = true
		go func() {
			content, err := getConfig(ctx, cl, dataID, group, r.cfg.Timeout)
			if err != nil {
				log.Warn("nacos config read failed", "err", err)
			}
			select {
			case fetched <- content:
			case <-ctx.Done():
			}
		}()
	}

	fetch()
	err = cl.ListenConfig(vo.ConfigParam{DataId: dataID, Group: group, OnChange: func(_, _, _, data string) {
		select {
		case pushed <- data:
		case <-ctx.Done():
		}
	}})
	if err != nil {
		return fmt.Errorf("registry: config listen: %w", err)
	}
	defer func() {
		_ = cl.CancelListenConfig(vo.ConfigParam{DataId: dataID, Group: group})
	}()

	tick := time.NewTicker(r.cfg.ConfigResync)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case content := <-pushed:
			deliver(content, "push")
		case content := <-fetched:
			fetching = false
			deliver(content, "read")
		case <-tick.C:
			fetch()
		}
	}
}

// getConfig reads an entry through the SDK, bounded by ctx and a few
// timeouts (the SDK call takes no context). A missing entry is "".
func getConfig(ctx context.Context, cl config_client.IConfigClient, dataID, group string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*timeout)
	defer cancel()
	return callWithin(ctx, func() (string, error) {
		return cl.GetConfig(vo.ConfigParam{DataId: dataID, Group: group})
	})
}
