package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// slogRedis sends go-redis's internal log lines (dial failures of its
// background pool) to slog at debug level instead of stderr.
type slogRedis struct{ log *slog.Logger }

func (l slogRedis) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "go-redis", "msg", fmt.Sprintf(format, v...))
}

// quietRedisLogger installs slogRedis; go-redis's logger is process-wide.
func quietRedisLogger(log *slog.Logger) {
	redis.SetLogger(slogRedis{log.With("component", "go-redis")})
}
