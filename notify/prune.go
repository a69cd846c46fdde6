package notify

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/redis/go-redis/v9"
)

// Pruner drops the finished entries of a notification log (delivered and
// suppressed) last changed before a time. Failed entries stay until they
// are retried: they are the dead letters people look at. An entry pruned
// is forgotten: the same notification handed in again would be sent
// again, so the retention must be longer than any redelivery of a
// transition and than the reminder interval.
type Pruner interface {
	Prune(ctx context.Context, before time.Time, limit int) (int, error)
}

// pruneBatch is how many entries one Prune call drops at most.
const pruneBatch = 1000

// RunPruner prunes p every tick until ctx ends, dropping the finished
// entries older than retention, in batches until none is left.
func RunPruner(ctx context.Context, p Pruner, retention, tick time.Duration, now func() time.Time, logger *slog.Logger) {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	every(ctx, tick, func(ctx context.Context) error {
		total := 0
		for {
			n, err := p.Prune(ctx, now().Add(-retention), pruneBatch)
			total += n
			if err != nil || n < pruneBatch {
				if total > 0 {
					logger.Info("notification log pruned", "entries", total, "older_than", retention.String())
				}
				return err
			}
		}
	}, func(err error) { logger.Warn("notification log prune failed", "err", err) })
}

// Prune implements Pruner. Finished entries are terminal (Retry applies
// to failed ones only), so reading the ids and then deleting them races
// with nothing.
func (l *RedisLog) Prune(ctx context.Context, before time.Time, limit int) (int, error) {
	total := 0
	for _, set := range []string{"delivered", "suppressed"} {
		if total >= limit {
			break
		}
		ids, err := l.rdb.ZRangeByScore(ctx, l.key(set), &redis.ZRangeBy{
			Min: "-inf", Max: "(" + strconv.FormatInt(before.UnixMilli(), 10), Count: int64(limit - total),
		}).Result()
		if err != nil {
			return total, fmt.Errorf("notify: log: prune: %w", err)
		}
		if len(ids) == 0 {
			continue
		}
		pipe := l.rdb.TxPipeline()
		for _, id := range ids {
			pipe.Del(ctx, l.key("n", id))
		}
		members := make([]any, len(ids))
		for i, id := range ids {
			members[i] = id
		}
		pipe.ZRem(ctx, l.key(set), members...)
		if _, err := pipe.Exec(ctx); err != nil {
			return total, fmt.Errorf("notify: log: prune: %w", err)
		}
		total += len(ids)
	}
	return total, nil
}

// Prune implements Pruner. It also forgets the transitions of targets
// whose last transition is older than TransitionTTL, as RedisLog's keys
// expire.
func (l *LocalLog) Prune(_ context.Context, before time.Time, limit int) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.db.NewBatch()
	defer b.Close()
	var dropped []string
	for id, e := range l.entries {
		if len(dropped) >= limit {
			break
		}
		if (e.State == EntryDelivered || e.State == EntrySuppressed) && e.UpdatedAt.Before(before) {
			if err := b.Delete(append([]byte{localEntry}, id...), nil); err != nil {
				return 0, fmt.Errorf("notify: log: prune: %w", err)
			}
			dropped = append(dropped, id)
		}
	}
	cutoff := l.now().Add(-TransitionTTL).UnixMilli()
	var subjects []string
	for subj, ts := range l.trans {
		last := int64(0)
		for _, t := range ts {
			last = max(last, t.At)
		}
		if last < cutoff {
			start := append(append([]byte{localTrans}, subj...), 0)
			end := append(append([]byte{localTrans}, subj...), 1)
			if err := b.DeleteRange(start, end, nil); err != nil {
				return 0, fmt.Errorf("notify: log: prune: %w", err)
			}
			subjects = append(subjects, subj)
		}
	}
	if b.Empty() {
		return 0, nil
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("notify: log: prune: %w", err)
	}
	for _, id := range dropped {
		delete(l.entries, id)
	}
	for _, s := range subjects {
		delete(l.trans, s)
	}
	return len(dropped), nil
}

var (
	_ Pruner = (*RedisLog)(nil)
	_ Pruner = (*LocalLog)(nil)
)
