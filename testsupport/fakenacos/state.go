package fakenacos

import (
	"crypto/md5"
	"encoding/hex"
	"sort"
	"strconv"

	pb "github.com/nacos-group/nacos-sdk-go/v2/api/grpc"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
)

// Defaults a real Nacos applies to empty names.
const (
	defaultNamespace = "public"
	defaultGroup     = "DEFAULT_GROUP"
	defaultCluster   = "DEFAULT"
)

// svcKey names a service.
type svcKey struct{ ns, group, name string }

func newSvcKey(ns, group, name string) svcKey {
	if ns == "" {
		ns = defaultNamespace
	}
	if group == "" {
		group = defaultGroup
	}
	return svcKey{ns: ns, group: group, name: name}
}

// cfgKey names a config entry. The empty tenant and "public" are the same.
type cfgKey struct{ tenant, group, dataID string }

func newCfgKey(tenant, group, dataID string) cfgKey {
	if tenant == defaultNamespace {
		tenant = ""
	}
	if group == "" {
		group = defaultGroup
	}
	return cfgKey{tenant: tenant, group: group, dataID: dataID}
}

// conn is one client gRPC connection, known from its ServerCheckRequest
// (by peer address) and set up by ConnectionSetupRequest on its stream.
type conn struct {
	id     string
	peer   string
	setup  bool
	out    chan *pb.Payload
	closed chan struct{}
	// setupDone is closed when setup becomes true.
	setupDone chan struct{}
	// subs: services this connection subscribed to, with their clusters.
	subs map[svcKey]string
	// listens: configs this connection listens to, with the tenant string
	// the client used (echoed back in pushes).
	listens map[cfgKey]string
	// listenMd5: the md5 the connection last reported for each config it
	// listens to (its cache of the content).
	listenMd5 map[cfgKey]string
}

// instance is a registered instance and the connection that owns it.
type instance struct {
	model.Instance
	connID string
}

type service struct {
	instances map[string]*instance // ip#port#cluster
}

type configItem struct {
	content      string
	md5          string
	lastModified int64
}

// state is everything a node knows. Connections and instances are lost on
// restart; configs are persisted.
type state struct {
	conns    map[string]*conn // by connection id
	byPeer   map[string]*conn // by remote address
	services map[svcKey]*service
	configs  map[cfgKey]*configItem
}

func newState() *state {
	return &state{
		conns:    map[string]*conn{},
		byPeer:   map[string]*conn{},
		services: map[svcKey]*service{},
		configs:  map[cfgKey]*configItem{},
	}
}

// restarted is the state after a restart: configs only.
func (st *state) restarted() *state {
	n := newState()
	n.configs = st.configs
	return n
}

func instanceKey(ip string, port uint64, cluster string) string {
	return ip + "#" + strconv.FormatUint(port, 10) + "#" + cluster
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// serviceInfo builds the ServiceInfo of k as a real server returns it:
// name without group, hosts of the requested clusters.
func (st *state) serviceInfo(k svcKey, clusters string, healthyOnly bool, refTime int64) model.Service {
	hosts := []model.Instance{}
	want := map[string]bool{}
	if clusters != "" {
		for _, c := range splitComma(clusters) {
			want[c] = true
		}
	}
	if svc := st.services[k]; svc != nil {
		for _, in := range svc.instances {
			if len(want) > 0 && !want[in.ClusterName] {
				continue
			}
			if healthyOnly && !in.Healthy {
				continue
			}
			hosts = append(hosts, copyInstance(in.Instance))
		}
	}
	sort.Slice(hosts, func(i, j int) bool {
		if hosts[i].Ip != hosts[j].Ip {
			return hosts[i].Ip < hosts[j].Ip
		}
		return hosts[i].Port < hosts[j].Port
	})
	return model.Service{
		Name:        k.name,
		GroupName:   k.group,
		Clusters:    clusters,
		CacheMillis: 10000,
		Hosts:       hosts,
		LastRefTime: uint64(refTime),
		Valid:       true,
	}
}

func copyInstance(in model.Instance) model.Instance {
	md := make(map[string]string, len(in.Metadata))
	for k, v := range in.Metadata {
		md[k] = v
	}
	in.Metadata = md
	return in
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}
