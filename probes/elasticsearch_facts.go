package probes

import "fmt"

// ElasticsearchFacts are what one Elasticsearch probe observed: the cluster
// health (GET /_cluster/health) and the version of the node that answered
// GET / (fetched once per connection).
type ElasticsearchFacts struct {
	ClusterName             string  `json:"cluster_name"`
	Status                  string  `json:"status"`
	Version                 string  `json:"version,omitempty"`
	TimedOut                bool    `json:"timed_out"`
	NumberOfNodes           int     `json:"number_of_nodes"`
	NumberOfDataNodes       int     `json:"number_of_data_nodes"`
	ActivePrimaryShards     int     `json:"active_primary_shards"`
	ActiveShards            int     `json:"active_shards"`
	RelocatingShards        int     `json:"relocating_shards"`
	InitializingShards      int     `json:"initializing_shards"`
	UnassignedShards        int     `json:"unassigned_shards"`
	DelayedUnassignedShards int     `json:"delayed_unassigned_shards"`
	NumberOfPendingTasks    int     `json:"number_of_pending_tasks"`
	ActiveShardsPercent     float64 `json:"active_shards_percent"`
}

// Health judges the cluster status: green is UP, yellow DEGRADED (some
// replicas unassigned), red DOWN (some primaries unassigned); any other
// status is DOWN. Limits do not apply to Elasticsearch.
func (f ElasticsearchFacts) Health(Limits) (State, string) {
	switch f.Status {
	case "green":
		return StateUp, ""
	case "yellow":
		return StateDegraded, fmt.Sprintf("cluster status yellow: %d unassigned shards, %d initializing",
			f.UnassignedShards, f.InitializingShards)
	case "red":
		return StateDown, fmt.Sprintf("cluster status red: %d unassigned shards, %d initializing",
			f.UnassignedShards, f.InitializingShards)
	}
	return StateDown, fmt.Sprintf("unknown cluster status %q", f.Status)
}
