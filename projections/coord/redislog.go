package coord

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

// QuietRedisLogger sends go-redis's own log lines to log at debug level.
// go-redis's logger is process-wide: call it once, from main.
func QuietRedisLogger(log *slog.Logger) {
	redis.SetLogger(slogRedis{log.With("component", "go-redis")})
}
