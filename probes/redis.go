package probes

import "context"

// OpenRedis is replaced by the real redis driver.
func OpenRedis(ctx context.Context, t Target) (Client, error) { return nil, errNoOpener(Redis) }
