package fakenacos

import (
	"errors"
	"time"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

// handleConfigQueryLocked serves ConfigQueryRequest; a missing entry is
// error code 300, which the SDK reads as empty content.
func (s *Server) handleConfigQueryLocked(body []byte) (any, error) {
	var req configRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	it := s.st.configs[newCfgKey(req.Tenant, req.Group, req.DataID)]
	if it == nil {
		return fail(errConfigNotFound, "config data not exist"), nil
	}
	return configQueryResponse{
		response: ok(), Content: it.content, ContentType: "text",
		Md5: it.md5, LastModified: it.lastModified,
	}, nil
}

// handleConfigPublishLocked serves ConfigPublishRequest.
func (s *Server) handleConfigPublishLocked(body []byte) (any, error) {
	var req configPublishRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.DataID == "" {
		return nil, errors.New("dataId is empty")
	}
	k := newCfgKey(req.Tenant, req.Group, req.DataID)
	if req.CasMd5 != "" {
		if it := s.st.configs[k]; it == nil || it.md5 != req.CasMd5 {
			return fail(codeFail, "cas publish fail, md5 mismatch"), nil
		}
	}
	s.publishLocked(k, req.Content)
	return ok(), nil
}

// handleConfigRemoveLocked serves ConfigRemoveRequest.
func (s *Server) handleConfigRemoveLocked(body []byte) (any, error) {
	var req configRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	k := newCfgKey(req.Tenant, req.Group, req.DataID)
	if _, found := s.st.configs[k]; found {
		delete(s.st.configs, k)
		s.notifyConfigLocked(k)
	}
	return ok(), nil
}

// handleBatchListenLocked serves ConfigBatchListenRequest: it (un)registers
// the connection as a listener and reports the entries whose md5 differs
// from the client's.
func (s *Server) handleBatchListenLocked(c *conn, body []byte) (any, error) {
	var req batchListenRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	changed := []model.ConfigContext{}
	for _, lc := range req.Contexts {
		k := newCfgKey(lc.Tenant, lc.Group, lc.DataId)
		if !req.Listen {
			delete(c.listens, k)
			delete(c.listenMd5, k)
			continue
		}
		c.listens[k] = lc.Tenant
		c.listenMd5[k] = lc.Md5
		serverMd5 := ""
		if it := s.st.configs[k]; it != nil {
			serverMd5 = it.md5
		}
		if serverMd5 != lc.Md5 {
			changed = append(changed, model.ConfigContext{Group: lc.Group, DataId: lc.DataId, Tenant: lc.Tenant})
		}
	}
	return batchListenResponse{response: ok(), ChangedConfigs: changed}, nil
}

func (s *Server) publishLocked(k cfgKey, content string) {
	s.st.configs[k] = &configItem{content: content, md5: md5hex(content), lastModified: time.Now().UnixMilli()}
	s.notifyConfigLocked(k)
}

// notifyConfigLocked pushes ConfigChangeNotifyRequest to every listener of k.
func (s *Server) notifyConfigLocked(k cfgKey) {
	if s.dropConfigPushes {
		return
	}
	for _, c := range s.st.conns {
		tenant, listening := c.listens[k]
		if !listening {
			continue
		}
		s.pushLocked(c, payload("ConfigChangeNotifyRequest", configChangeNotifyRequest{
			RequestID: s.nextRequestIDLocked(), Group: k.group, DataID: k.dataID, Tenant: tenant, Module: "config",
		}))
	}
}

// DropConfigPushes makes the node store published configs without pushing
// ConfigChangeNotifyRequest to listeners (a lost push), or push again.
func (s *Server) DropConfigPushes(drop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropConfigPushes = drop
}

// PublishConfig stores a config entry in the public namespace and notifies
// its listeners, as publishing from the Nacos console does. An empty group
// is DEFAULT_GROUP.
func (s *Server) PublishConfig(dataID, group, content string) {
	s.PublishConfigIn("", dataID, group, content)
}

// PublishConfigIn is PublishConfig in a namespace (tenant).
func (s *Server) PublishConfigIn(namespace, dataID, group, content string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishLocked(newCfgKey(namespace, group, dataID), content)
}

// Config returns a config entry of the public namespace as stored.
func (s *Server) Config(dataID, group string) (content string, found bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it := s.st.configs[newCfgKey("", group, dataID)]
	if it == nil {
		return "", false
	}
	return it.content, true
}

// ConfigListeners is the number of connections listening to a config entry
// of the public namespace.
func (s *Server) ConfigListeners(dataID, group string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := newCfgKey("", group, dataID)
	n := 0
	for _, c := range s.st.conns {
		if _, found := c.listens[k]; found {
			n++
		}
	}
	return n
}

// ConfigListenersInSync is the number of connections listening to a config
// entry of the public namespace whose last listen reported the content
// the node holds: the client has read the entry for its listener, so no
// read of its own is pending.
func (s *Server) ConfigListenersInSync(dataID, group string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := newCfgKey("", group, dataID)
	it := s.st.configs[k]
	n := 0
	for _, c := range s.st.conns {
		if md5, found := c.listenMd5[k]; found && it != nil && md5 == it.md5 {
			n++
		}
	}
	return n
}
