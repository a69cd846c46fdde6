package registry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// ErrClosed is returned by ReadConfig and WatchConfig after Close.
var ErrClosed = errors.New("registry: closed")

// ReadConfig reads the content of a Nacos config entry (dataID in group of
// the registry's namespace) once, bounded by ctx and the request timeout.
// A missing entry is "". It uses the registry's one config client, which
// WatchConfig shares.
func (r *Registry) ReadConfig(ctx context.Context, dataID, group string) (string, error) {
	cl, group, err := r.configFor(dataID, group)
	if err != nil {
		return "", err
	}
	return getConfig(ctx, cl, dataID, group, r.cfg.Timeout)
}

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
//
// A read never overrides a newer push: every read remembers how many
// pushes had been received when it was sent, and a read answered after a
// further push is discarded (its content may predate the push) and sent
// again.
func (r *Registry) WatchConfig(ctx context.Context, dataID, group string, onChange func(content string)) error {
	cl, group, err := r.configFor(dataID, group)
	if err != nil {
		return err
	}
	log := r.logger.With("data_id", dataID, "group", group)

	type read struct {
		content string
		// pushes is how many pushes the loop had received when the read
		// was sent.
		pushes int
	}
	pushed := make(chan string, 16)
	fetched := make(chan read, 1)
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
	pushes := 0
	fetching := false
	fetch := func() {
		if fetching {
			return
		}
		fetching = true
		sent := pushes
		go func() {
			content, err := getConfig(ctx, cl, dataID, group, r.cfg.Timeout)
			if err != nil {
				log.Warn("nacos config read failed", "err", err)
			}
			select {
			case fetched <- read{content: content, pushes: sent}:
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
			pushes++
			deliver(content, "push")
		case rd := <-fetched:
			fetching = false
			if rd.pushes != pushes {
				log.Debug("nacos config read older than a push discarded; reading again")
				fetch()
				continue
			}
			deliver(rd.content, "read")
		case <-tick.C:
			fetch()
		}
	}
}

// configFor checks a watch or read of dataID and returns the registry's
// config client and the group to use.
func (r *Registry) configFor(dataID, group string) (config_client.IConfigClient, string, error) {
	if dataID == "" {
		return nil, "", errors.New("registry: config watch: empty data id")
	}
	if len(r.cfg.Servers) == 0 {
		return nil, "", errors.New("registry: config watch: no nacos server")
	}
	if group == "" {
		group = r.cfg.Group
	}
	cl, err := r.configClient()
	return cl, group, err
}

// configClient returns the registry's config client, built on first use
// and kept until Close: a read at start-up and the watch share it.
func (r *Registry) configClient() (config_client.IConfigClient, error) {
	r.sdkMu.Lock()
	defer r.sdkMu.Unlock()
	switch {
	case r.closed:
		return nil, ErrClosed
	case r.config != nil:
		return r.config, nil
	}
	cl, err := r.sdk.newConfig(r.configParam())
	if err != nil {
		return nil, fmt.Errorf("registry: config client: %w", err)
	}
	r.config = cl
	return cl, nil
}

// Close releases the config client. Call it once WatchConfig and Run have
// returned; ReadConfig and WatchConfig fail with ErrClosed afterwards.
func (r *Registry) Close() {
	r.sdkMu.Lock()
	defer r.sdkMu.Unlock()
	if r.closed {
		return
	}
	r.closed = true
	if r.config != nil {
		r.config.CloseClient()
		r.config = nil
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
