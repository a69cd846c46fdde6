package probes

import (
	"strconv"
	"strings"
)

// RedisFacts are what one Redis probe observes (from PING and INFO).
type RedisFacts struct {
	Version       string `json:"version"`
	Mode          string `json:"mode"`
	Role          string `json:"role"`
	UptimeSeconds int64  `json:"uptime_seconds"`

	ConnectedClients int64 `json:"connected_clients"`
	// MaxClients is 0 when unknown (INFO before 7.0 with CONFIG denied).
	MaxClients          int64 `json:"maxclients"`
	RejectedConnections int64 `json:"rejected_connections"`

	UsedMemory int64 `json:"used_memory"`
	// MaxMemory is 0 when no limit is set.
	MaxMemory       int64  `json:"maxmemory"`
	MaxMemoryPolicy string `json:"maxmemory_policy,omitempty"`
	EvictedKeys     int64  `json:"evicted_keys"`

	Loading             bool   `json:"loading"`
	RDBLastBgsaveStatus string `json:"rdb_last_bgsave_status,omitempty"`
	AOFEnabled          bool   `json:"aof_enabled"`
	AOFLastWriteStatus  string `json:"aof_last_write_status,omitempty"`

	// MasterLinkStatus is "up" or "down" on a replica, empty on a master.
	MasterLinkStatus string `json:"master_link_status,omitempty"`
	ConnectedSlaves  int64  `json:"connected_slaves"`

	// Pool is the client's pool statistics after the probe.
	Pool PoolStats `json:"pool"`
}

// Health is DEGRADED while the dataset is loading, when clients exceed
// l.ConnRatio of maxclients, used memory exceeds l.MemoryRatio of a set
// maxmemory, a replica's link to its master is down, or the last RDB save
// or AOF write failed; UP otherwise.
func (f RedisFacts) Health(l Limits) (State, string) {
	l = l.WithDefaults()
	var why []string
	if f.Loading {
		why = append(why, "loading the dataset")
	}
	why = aboveRatio(why, "connected clients", f.ConnectedClients, f.MaxClients, "", l.ConnRatio)
	why = aboveRatio(why, "used memory", f.UsedMemory, f.MaxMemory, " bytes", l.MemoryRatio)
	if f.Role == "slave" && f.MasterLinkStatus != "up" {
		why = append(why, "replica link to master is "+orUnknown(f.MasterLinkStatus))
	}
	if f.RDBLastBgsaveStatus != "" && f.RDBLastBgsaveStatus != "ok" {
		why = append(why, "last RDB save "+f.RDBLastBgsaveStatus)
	}
	if f.AOFEnabled && f.AOFLastWriteStatus != "" && f.AOFLastWriteStatus != "ok" {
		why = append(why, "last AOF write "+f.AOFLastWriteStatus)
	}
	return degradedBy(why)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// redisFactsFromInfo picks the facts out of an INFO reply's "key:value"
// lines (section headers, blank lines and lines without a colon are
// skipped) in one pass without building a map. Missing or malformed
// numbers read as 0.
func redisFactsFromInfo(info string) RedisFacts {
	var f RedisFacts
	num := func(v string) int64 {
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	for len(info) > 0 {
		var line string
		if i := strings.IndexByte(info, '\n'); i >= 0 {
			line, info = info[:i], info[i+1:]
		} else {
			line, info = info, ""
		}
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch k {
		case "redis_version":
			f.Version = v
		case "redis_mode":
			f.Mode = v
		case "role":
			f.Role = v
		case "uptime_in_seconds":
			f.UptimeSeconds = num(v)
		case "connected_clients":
			f.ConnectedClients = num(v)
		case "maxclients":
			f.MaxClients = num(v)
		case "rejected_connections":
			f.RejectedConnections = num(v)
		case "used_memory":
			f.UsedMemory = num(v)
		case "maxmemory":
			f.MaxMemory = num(v)
		case "maxmemory_policy":
			f.MaxMemoryPolicy = v
		case "evicted_keys":
			f.EvictedKeys = num(v)
		case "loading":
			f.Loading = v == "1"
		case "rdb_last_bgsave_status":
			f.RDBLastBgsaveStatus = v
		case "aof_enabled":
			f.AOFEnabled = v == "1"
		case "aof_last_write_status":
			f.AOFLastWriteStatus = v
		case "master_link_status":
			f.MasterLinkStatus = v
		case "connected_slaves":
			f.ConnectedSlaves = num(v)
		}
	}
	return f
}
