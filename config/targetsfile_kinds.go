package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/probes"
)

// kindSpec is what the targets file knows of one kind: the optional keys
// that apply to it (name, type and the schedule keys apply to all) and how
// a target of the kind is completed once the common keys are set.
type kindSpec struct {
	fields map[string]bool
	// finish fills the kind's own defaults and addresses; nil means
	// nothing to do. Its errors name the key.
	finish func(td *targetDoc, t *probes.Target) []error
}

// kindSpecs are the targets file's kinds.
var kindSpecs = map[probes.Kind]kindSpec{
	probes.Postgres: {
		fields: set("host", "port", "username", "password", "database", "tls", "degraded.conn_ratio", "degraded.replica_lag"),
		finish: finishPostgres,
	},
	probes.Elasticsearch: {
		fields: set("host", "port", "hosts", "username", "password", "tls"),
		finish: finishElasticsearch,
	},
	probes.Milvus: {
		fields: set("host", "port", "username", "password", "tls"),
	},
	probes.Redis: {
		fields: set("host", "port", "username", "password", "db", "tls", "degraded.conn_ratio", "degraded.memory_ratio"),
	},
	probes.Nacos: {
		fields: set("host", "port", "hosts", "username", "password", "namespace", "group", "tls"),
		finish: finishNacos,
	},
	probes.RabbitMQ: {
		fields: set("host", "port", "username", "password", "vhost", "management_url", "tls"),
		finish: finishRabbitMQ,
	},
}

// set builds a set of strings.
func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// present lists the optional fields td sets.
func (td *targetDoc) present() []string {
	var out []string
	add := func(on bool, name string) {
		if on {
			out = append(out, name)
		}
	}
	add(td.Host != "", "host")
	add(td.Port != nil, "port")
	add(len(td.Hosts) > 0 || len(td.Addresses) > 0, "hosts")
	add(td.Username != "", "username")
	add(td.Password != "", "password")
	add(td.Database != "", "database")
	add(td.DB != nil, "db")
	add(td.VHost != "", "vhost")
	add(td.ManagementURL != "", "management_url")
	add(td.Namespace != "", "namespace")
	add(td.Group != "", "group")
	add(td.TLS != nil, "tls")
	if td.Degraded != nil {
		add(td.Degraded.ConnRatio != nil, "degraded.conn_ratio")
		add(td.Degraded.MemoryRatio != nil, "degraded.memory_ratio")
		add(td.Degraded.ReplicaLag != nil, "degraded.replica_lag")
	}
	return out
}

// target builds and validates the target td describes.
func (td *targetDoc) target(d Defaults) (probes.Target, []error) {
	kind, errs := td.checkShape()
	if len(errs) > 0 {
		return probes.Target{}, errs
	}
	t, errs := td.common(kind, d)
	if finish := kindSpecs[kind].finish; finish != nil {
		errs = append(errs, finish(td, &t)...)
	}
	if len(errs) > 0 {
		return probes.Target{}, errs
	}
	if err := ValidateTarget(t); err != nil {
		return probes.Target{}, unjoin(err)
	}
	return t, nil
}

// checkShape checks the type and name and that every key td sets applies
// to its type.
func (td *targetDoc) checkShape() (probes.Kind, []error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	kind := probes.Kind(td.Type)
	switch {
	case td.Type == "":
		bad("type: required, one of %s", kindList())
	case !kind.Valid():
		bad("type: must be one of %s, got %q", kindList(), truncate(td.Type, 32))
	}
	if td.Name == "" {
		bad("name: required")
	}
	if len(errs) > 0 {
		return kind, errs
	}
	allowed := kindSpecs[kind].fields
	for _, f := range td.present() {
		if !allowed[f] {
			name := f
			if f == "hosts" {
				name = "hosts/addresses"
			}
			bad("%s: does not apply to type %s", name, kind)
		}
	}
	if len(td.Hosts) > 0 && len(td.Addresses) > 0 {
		bad("hosts and addresses: give only one of them")
	}
	return kind, errs
}

// common builds the target from the keys every kind shares: address,
// credentials, TLS, and the schedule and limits, its own over d.
func (td *targetDoc) common(kind probes.Kind, d Defaults) (probes.Target, []error) {
	t := probes.Target{
		Kind: kind, Name: td.Name, Host: td.Host, Port: defaultPorts[kind],
		Username: td.Username, Password: secret.String(td.Password),
		Database: td.Database, VHost: td.VHost, ManagementURL: td.ManagementURL,
		Namespace: td.Namespace, Group: td.Group,
	}
	if td.Port != nil {
		t.Port = *td.Port
	}
	if td.DB != nil {
		t.DB = *td.DB
	}
	var errs []error
	if td.TLS != nil {
		t.TLS, errs = td.TLS.settings()
	}
	d, derrs := td.scheduleDoc.apply(d)
	d.apply(&t)
	return t, append(errs, derrs...)
}

// addresses returns the list td gives (hosts or addresses), or, when it
// gives none, the one address host:port makes, as made by addr. listKey
// names the list in the error of giving both.
func (td *targetDoc) addresses(t *probes.Target, listKey string, addr func(hostport string) string) ([]string, []error) {
	addrs := td.Hosts
	if len(addrs) == 0 {
		addrs = td.Addresses
	}
	var errs []error
	if len(addrs) > 0 && (td.Host != "" || td.Port != nil) {
		errs = append(errs, fmt.Errorf("host/port and %s: give only one of them", listKey))
	}
	if len(addrs) == 0 && validHost(t.Host) {
		addrs = []string{addr(net.JoinHostPort(t.Host, strconv.Itoa(t.Port)))}
	}
	return addrs, errs
}

// finishPostgres defaults the username and database to "postgres".
func finishPostgres(_ *targetDoc, t *probes.Target) []error {
	t.Username = orDefault(t.Username, DefaultPostgresUser)
	t.Database = orDefault(t.Database, fileTargetPostgresDatabase)
	return nil
}

// finishRabbitMQ defaults the vhost.
func finishRabbitMQ(_ *targetDoc, t *probes.Target) []error {
	t.VHost = orDefault(t.VHost, DefaultRabbitMQVHost)
	return nil
}

// finishNacos defaults the namespace and group and makes the addresses
// host:port (the first one is Host/Port).
func finishNacos(td *targetDoc, t *probes.Target) []error {
	t.Namespace = orDefault(t.Namespace, DefaultNacosNamespace)
	t.Group = orDefault(t.Group, DefaultNacosGroup)
	addrs, errs := td.addresses(t, "addresses", func(hp string) string { return hp })
	t.Addresses = make([]string, len(addrs))
	for i, a := range addrs {
		t.Addresses[i] = withDefaultPort(strings.TrimSpace(a), defaultPorts[probes.Nacos])
	}
	if len(t.Addresses) > 0 {
		t.Host, t.Port = splitHostPort(t.Addresses[0])
	}
	return errs
}

// finishElasticsearch makes the addresses http(s) URLs, lifts their
// credentials into username/password and checks the TLS mode against the
// schemes (https:// without a mode means verify-full).
func finishElasticsearch(td *targetDoc, t *probes.Target) []error {
	scheme := "http://"
	if t.TLS.Enabled() {
		scheme = "https://"
	}
	addrs, errs := td.addresses(t, "hosts", func(hp string) string { return scheme + hp })
	t.Addresses = make([]string, len(addrs))
	for i, a := range addrs {
		t.Addresses[i] = strings.TrimSpace(a)
	}
	if err := liftURLCredentials("hosts", "username", "password", t.Addresses, &t.Username, &t.Password); err != nil {
		errs = append(errs, err)
	}
	if len(t.Addresses) > 0 {
		t.Host, t.Port = urlHostPort(t.Addresses[0])
	}
	if err := checkESTLS(t.TLS.Mode, t.Addresses); err != nil {
		errs = append(errs, fmt.Errorf("tls: %s", err))
	}
	t.TLS = esTLS(t.TLS, t.Addresses)
	return errs
}
