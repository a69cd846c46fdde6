package registry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/clients/config_client"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

// ErrClosed is returned by NewConfigWatch and WatchConfig after Close.
var ErrClosed = errors.New("registry: closed")

// ConfigWatch is a watch of one Nacos config entry. It listens from
// NewConfigWatch on, so that a change made while the consumer reads the
// entry at start-up (Read) is delivered by Run.
type ConfigWatch struct {
	r      *Registry
	cl     config_client.IConfigClient
	dataID string
	group  string
	log    *slog.Logger
	pushed chan string
	// stop ends the listener's deliveries when Run returns.
	stop     chan struct{}
	stopOnce sync.Once
}

// NewConfigWatch starts listening to a Nacos config entry (dataID in group
// of the registry's namespace; an empty group is the registry's). It uses
// the registry's one config client, built on first use. Registration need
// not be enabled, but servers must be configured.
func (r *Registry) NewConfigWatch(dataID, group string) (*ConfigWatch, error) {
	if dataID == "" {
		return nil, errors.New("registry: config watch: empty data id")
	}
	if len(r.cfg.Servers) == 0 {
		return nil, errors.New("registry: config watch: no nacos server")
	}
	if group == "" {
		group = r.cfg.Group
	}
	cl, err := r.configClient()
	if err != nil {
		return nil, err
	}
	w := &ConfigWatch{
		r: r, cl: cl, dataID: dataID, group: group,
		log:    r.logger.With("data_id", dataID, "group", group),
		pushed: make(chan string, 16),
		stop:   make(chan struct{}),
	}
	// The SDK tells the server of a new listener on its next listen round:
	// at once when its connection comes up (the client's first request),
	// else up to 5s later. A watch made before the first Read is therefore
	// registered at once.
	err = cl.ListenConfig(vo.ConfigParam{DataId: dataID, Group: group, OnChange: func(_, _, _, data string) {
		select {
		case w.pushed <- data:
		case <-w.stop:
		}
	}})
	if err != nil {
		return nil, fmt.Errorf("registry: config listen: %w", err)
	}
	return w, nil
}

// Read reads the entry once, bounded by ctx and the request timeout. A
// missing entry is "".
func (w *ConfigWatch) Read(ctx context.Context) (string, error) {
	return getConfig(ctx, w.cl, w.dataID, w.group, w.r.cfg.Timeout)
}

// WatchConfig is NewConfigWatch and Run.
func (r *Registry) WatchConfig(ctx context.Context, dataID, group string, onChange func(content string)) error {
	w, err := r.NewConfigWatch(dataID, group)
	if err != nil {
		return err
	}
	return w.Run(ctx, onChange)
}

// Run delivers the content of the entry to onChange: once at start when
// the entry exists, then on every change pushed through the SDK's
// listener. It blocks until ctx is done, then stops listening and returns
// nil. Run once.
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
func (w *ConfigWatch) Run(ctx context.Context, onChange func(content string)) error {
	defer func() {
		w.stopOnce.Do(func() { close(w.stop) })
		_ = w.cl.CancelListenConfig(vo.ConfigParam{DataId: w.dataID, Group: w.group})
	}()
	type read struct {
		content string
		// pushes is how many pushes the loop had received when the read
		// was sent.
		pushes int
	}
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
		w.log.Info("nacos config received", "source", source, "bytes", len(content))
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
			content, err := w.Read(ctx)
			if err != nil {
				w.log.Warn("nacos config read failed", "err", err)
			}
			select {
			case fetched <- read{content: content, pushes: sent}:
			case <-ctx.Done():
			}
		}()
	}

	fetch()
	tick := time.NewTicker(w.r.cfg.ConfigResync)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case content := <-w.pushed:
			pushes++
			deliver(content, "push")
		case rd := <-fetched:
			fetching = false
			if rd.pushes != pushes {
				w.log.Debug("nacos config read older than a push discarded; reading again")
				fetch()
				continue
			}
			deliver(rd.content, "read")
		case <-tick.C:
			fetch()
		}
	}
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

// Close releases the config client. Call it once the watches and Run have
// returned; NewConfigWatch and WatchConfig fail with ErrClosed afterwards.
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
