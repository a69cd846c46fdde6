// Package redisstore keeps the read models of the projections in Redis
// (shared mode: the Redis of STORE_URL): current status, history
// streams with hourly metrics rollups, and alerts. Every write is one Lua
// script, so its guard (epoch/seq, slot, event id) and its effects are
// atomic and cost one round trip.
//
// Key layout, under a prefix P (default "dbsvc"; the coordinator's keys
// "P:state:*", "P:claim:*" and "P:outbox" do not collide):
//
//	P:kinds                  set: kinds with a known target
//	P:names:<kind>           set: names of the known targets of a kind
//	P:status:<kind>          hash: "s|<name>" -> "<epoch>:<seq>|<state json>",
//	                         "c|<name>" -> "<slot>|<last check json>"
//	P:hist:<kind>/<name>     stream: one entry per check, id "<slot>-0"
//	P:roll:<kind>/<name>     hash: "<hour ms>" -> counters, "<hour ms>:h" ->
//	                         latency histogram, "ls" -> last rolled slot
//	P:late:<kind>/<name>     zset: slots of checks counted in the rollups
//	                         but too late for the history stream
//	P:gone:<kind>/<name>     tombstone (ms) left by Forget for a day
//	P:al:*                   alerts (see alerts.go)
//
// Scripts build some key names themselves: Redis Cluster is not supported.
package redisstore

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/projections"
)

// Defaults of Options.
const (
	DefaultPrefix = "dbsvc"
)

// tombstoneTTL is how long events older than a Forget are dropped.
const tombstoneTTL = 24 * time.Hour

// Options tune a Store. Zero values take the defaults.
type Options struct {
	// Prefix of every key (DefaultPrefix).
	Prefix string
	// HistoryMaxEntries bounds each target's history stream, approximately
	// (MAXLEN ~) (HISTORY_MAX_ENTRIES, projections.DefaultHistoryMaxEntries).
	HistoryMaxEntries int64
	// HistoryRetention drops history entries older than this, approximately
	// (MINID ~) (HISTORY_RETENTION, projections.DefaultHistoryRetention).
	HistoryRetention time.Duration
	// AlertRetention is how long resolved alerts are kept (ALERT_RETENTION,
	// projections.DefaultAlertRetention).
	AlertRetention time.Duration
	// Now is the clock (time.Now); tests inject one.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	o.HistoryMaxEntries, o.HistoryRetention, o.AlertRetention =
		projections.RetentionOrDefaults(o.HistoryMaxEntries, o.HistoryRetention, o.AlertRetention)
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Store is the Redis store of the read models. It implements
// projections.StatusStore, HistoryStore and AlertStore, and the reads the
// API serves. It is safe for concurrent use.
type Store struct {
	rdb  redis.UniversalClient
	opts Options
	k    keys

	mu        sync.Mutex
	kindsSeen []string // kinds read by the last Statuses, a guess for the next
}

// The Store serves every projection.
var (
	_ projections.StatusStore  = (*Store)(nil)
	_ projections.HistoryStore = (*Store)(nil)
	_ projections.AlertStore   = (*Store)(nil)
)

// New returns a Store over rdb.
func New(rdb redis.UniversalClient, opts Options) (*Store, error) {
	if rdb == nil {
		return nil, errors.New("redisstore: nil client")
	}
	opts = opts.withDefaults()
	return &Store{rdb: rdb, opts: opts, k: keys{p: opts.Prefix}}, nil
}

// keys names the keys under a prefix.
type keys struct{ p string }

func (k keys) kinds() string                 { return k.p + ":kinds" }
func (k keys) names(kind string) string      { return k.p + ":names:" + kind }
func (k keys) status(kind string) string     { return k.p + ":status:" + kind }
func (k keys) hist(kind, name string) string { return k.p + ":hist:" + kind + "/" + name }
func (k keys) roll(kind, name string) string { return k.p + ":roll:" + kind + "/" + name }
func (k keys) gone(kind, name string) string { return k.p + ":gone:" + kind + "/" + name }
func (k keys) late(kind, name string) string { return k.p + ":late:" + kind + "/" + name }
func (k keys) alerts() string                { return k.p + ":al" }

// ms formats a time as Unix milliseconds.
func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// splitGuard splits a "<guard>|<json>" value.
func splitGuard(v string) (guard, body string, ok bool) {
	i := strings.IndexByte(v, '|')
	if i < 0 {
		return "", "", false
	}
	return v[:i], v[i+1:], true
}
