package probes

import "context"

// OpenElasticsearch is replaced by the real elasticsearch driver.
func OpenElasticsearch(ctx context.Context, t Target) (Client, error) { return nil, errNoOpener(Elasticsearch) }
