package config

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dbhealth/database-service/probes"
)

// normalize trims lists, resolves relative paths against dir and fills the
// computed defaults (REPLICA_ID, DATA_DIR).
func (c *Config) normalize(dir string) {
	c.Elasticsearch.Hosts = trimList(c.Elasticsearch.Hosts)
	c.Nacos.Servers = trimList(c.Nacos.Servers)
	for i, s := range c.Nacos.Servers {
		c.Nacos.Servers[i] = withDefaultPort(s, defaultPorts[probes.Nacos])
	}
	c.Service.ReplicaID = strings.TrimSpace(c.Service.ReplicaID)
	if c.Service.ReplicaID == "" {
		c.Service.ReplicaID = defaultReplicaID()
	}
	if c.Service.DataDir == "" {
		c.Service.DataDir = filepath.Join(os.TempDir(), "database-service")
	}
	c.Service.DataDir = absolute(dir, c.Service.DataDir)
	c.Probe.TargetsFile = absolute(dir, c.Probe.TargetsFile)
	c.Log.File = absolute(dir, c.Log.File)
	c.normalizeTLS(dir)
}

// withDefaultPort appends port to a "host" without one; "host:port" and
// anything unparsable are returned as they are (validation reports them).
func withDefaultPort(hostport string, port int) string {
	if strings.Contains(hostport, "://") {
		return hostport
	}
	_, _, err := net.SplitHostPort(hostport)
	if err != nil && strings.Contains(err.Error(), "missing port") && strings.Count(hostport, ":") == 0 {
		return net.JoinHostPort(hostport, strconv.Itoa(port))
	}
	if err != nil && strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		return net.JoinHostPort(strings.Trim(hostport, "[]"), strconv.Itoa(port))
	}
	return hostport
}

// absolute resolves a non-empty relative path against dir.
func absolute(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// trimList trims every entry and drops empty ones.
func trimList(in []string) []string {
	out := in[:0]
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// defaultReplicaID is "<hostname>-<pid>-<6 random hex digits>".
func defaultReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "replica"
	}
	host = strings.Map(func(r rune) rune {
		if r == '.' || r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '-'
	}, host)
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
