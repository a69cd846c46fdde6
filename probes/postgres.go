package probes

import "context"

// OpenPostgres is replaced by the real postgres driver.
func OpenPostgres(ctx context.Context, t Target) (Client, error) { return nil, errNoOpener(Postgres) }
