package fakenacos

import (
	"errors"
	"sort"
	"strconv"

	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

// handleInstanceLocked serves InstanceRequest (registerInstance,
// deregisterInstance) and BatchInstanceRequest (batchRegisterInstance).
func (s *Server) handleInstanceLocked(c *conn, body []byte) (any, error) {
	var req instanceRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	if req.ServiceName == "" {
		return nil, errors.New("serviceName is empty")
	}
	k := newSvcKey(req.Namespace, req.GroupName, req.ServiceName)
	svc := s.st.services[k]
	if svc == nil {
		svc = &service{instances: map[string]*instance{}}
		s.st.services[k] = svc
	}
	switch req.Type {
	case "registerInstance":
		s.putInstanceLocked(svc, k, c, req.Instance)
	case "batchRegisterInstance":
		// A batch replaces what this connection registered in the service.
		for ik, in := range svc.instances {
			if in.connID == c.id {
				delete(svc.instances, ik)
			}
		}
		for _, in := range req.Instances {
			s.putInstanceLocked(svc, k, c, in)
		}
	case "deregisterInstance":
		cl := req.Instance.ClusterName
		if cl == "" {
			cl = defaultCluster
		}
		delete(svc.instances, instanceKey(req.Instance.Ip, req.Instance.Port, cl))
	default:
		return nil, errors.New("unknown instance request type " + req.Type)
	}
	s.notifyServiceLocked(k)
	return ok(), nil
}

func (s *Server) putInstanceLocked(svc *service, k svcKey, c *conn, in model.Instance) {
	if in.ClusterName == "" {
		in.ClusterName = defaultCluster
	}
	in.ServiceName = k.group + "@@" + k.name
	in.InstanceId = in.Ip + "#" + strconv.FormatUint(in.Port, 10) + "#" + in.ClusterName + "#" + in.ServiceName
	if in.Metadata == nil {
		in.Metadata = map[string]string{}
	}
	svc.instances[instanceKey(in.Ip, in.Port, in.ClusterName)] = &instance{Instance: copyInstance(in), connID: c.id}
}

// handleSubscribeLocked serves SubscribeServiceRequest. Like a real server it
// answers with the current ServiceInfo and also pushes it to the new
// subscriber (the SDK only runs subscribe callbacks on pushes).
func (s *Server) handleSubscribeLocked(c *conn, body []byte) (any, error) {
	var req subscribeRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	k := newSvcKey(req.Namespace, req.GroupName, req.ServiceName)
	info := s.st.serviceInfo(k, req.Clusters, false, s.nextRefTimeLocked())
	if req.Subscribe {
		c.subs[k] = req.Clusters
		s.pushLocked(c, payload("NotifySubscriberRequest", notifySubscriberRequest{
			RequestID: s.nextRequestIDLocked(), Namespace: k.ns, ServiceName: k.name,
			GroupName: k.group, Module: "naming", ServiceInfo: info,
		}))
	} else {
		delete(c.subs, k)
	}
	return serviceInfoResponse{response: ok(), ServiceInfo: info}, nil
}

// handleServiceQueryLocked serves ServiceQueryRequest.
func (s *Server) handleServiceQueryLocked(body []byte) (any, error) {
	var req serviceQueryRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	k := newSvcKey(req.Namespace, req.GroupName, req.ServiceName)
	info := s.st.serviceInfo(k, req.Cluster, req.HealthyOnly, s.nextRefTimeLocked())
	return serviceInfoResponse{response: ok(), ServiceInfo: info}, nil
}

// handleServiceListLocked serves ServiceListRequest: the names of the
// services of a namespace and group that have at least one instance.
func (s *Server) handleServiceListLocked(body []byte) (any, error) {
	var req serviceListRequest
	if err := decode(body, &req); err != nil {
		return nil, err
	}
	probe := newSvcKey(req.Namespace, req.GroupName, "")
	var names []string
	for k, svc := range s.st.services {
		if k.ns == probe.ns && k.group == probe.group && len(svc.instances) > 0 {
			names = append(names, k.name)
		}
	}
	sort.Strings(names)
	count := len(names)
	if req.PageSize > 0 {
		from := (max(req.PageNo, 1) - 1) * req.PageSize
		to := min(from+req.PageSize, len(names))
		if from > len(names) {
			from = len(names)
		}
		names = names[from:to]
	}
	if names == nil {
		names = []string{}
	}
	return serviceListResponse{response: ok(), Count: count, ServiceNames: names}, nil
}

// notifyServiceLocked pushes the ServiceInfo of k to every subscriber.
func (s *Server) notifyServiceLocked(k svcKey) {
	refTime := s.nextRefTimeLocked()
	for _, c := range s.st.conns {
		clusters, subscribed := c.subs[k]
		if !subscribed {
			continue
		}
		s.pushLocked(c, payload("NotifySubscriberRequest", notifySubscriberRequest{
			RequestID: s.nextRequestIDLocked(), Namespace: k.ns, ServiceName: k.name,
			GroupName: k.group, Module: "naming", ServiceInfo: s.st.serviceInfo(k, clusters, false, refTime),
		}))
	}
}

// Instances returns the instances registered in a service, sorted by address.
// Empty group and namespace mean DEFAULT_GROUP and public.
func (s *Server) Instances(service, group, namespace string) []model.Instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.serviceInfo(newSvcKey(namespace, group, service), "", false, 0).Hosts
}

// Connections is the number of client connections the node holds.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.st.conns {
		if c.setup {
			n++
		}
	}
	return n
}

// Overwrite changes a registered instance in place, as a stale
// re-registration from a client would, and pushes the change to the
// subscribers. It reports whether the instance was found.
func (s *Server) Overwrite(service, group, namespace, ip string, port uint64, change func(*model.Instance)) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := newSvcKey(namespace, group, service)
	svc := s.st.services[k]
	if svc == nil {
		return false
	}
	for _, in := range svc.instances {
		if in.Ip == ip && in.Port == port {
			change(&in.Instance)
			s.notifyServiceLocked(k)
			return true
		}
	}
	return false
}
