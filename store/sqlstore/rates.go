package sqlstore

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

var (
	qHit = newQuery(`INSERT INTO rates (rate_key, window_start, hits, expires_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (rate_key, window_start) DO UPDATE SET hits = rates.hits + excluded.hits
		RETURNING hits`)
	qDeleteOldWindows = newQuery(`DELETE FROM rates WHERE expires_at <= ?`)
)

// sweepEvery is how many hits pass between deletions of ended windows.
const sweepEvery = 1024

// Hit counts one event for key in the fixed window containing now.
// Windows are aligned to multiples of window since the Unix epoch, so
// that every node agrees on them.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration, limit int, now time.Time) (bool, time.Duration, error) {
	return s.hitN(ctx, "Hit", key, window, 1, int64(limit), now)
}

// HitN counts n events at once, like Hit.
func (s *Store) HitN(ctx context.Context, key string, window time.Duration, n, limit int64, now time.Time) (bool, time.Duration, error) {
	if n < 0 {
		return false, 0, &parley.Error{Code: parley.EINVALID, Op: s.op("HitN"), Message: "rate hits must not be negative"}
	}
	return s.hitN(ctx, "HitN", key, window, n, limit, now)
}

func (s *Store) hitN(ctx context.Context, name, key string, window time.Duration, hits, limit int64, now time.Time) (bool, time.Duration, error) {
	w := window.Microseconds()
	if w <= 0 {
		return false, 0, &parley.Error{Code: parley.EINVALID, Op: s.op(name), Message: "rate window must be at least a microsecond"}
	}
	t := now.UnixMicro()
	start := t - t%w
	end := start + w
	var n int64
	if err := s.w.QueryRowContext(ctx, s.sql(qHit), key, start, hits, end).Scan(&n); err != nil {
		return false, 0, s.wrap(name, err)
	}
	if s.hits.Add(1)%sweepEvery == 0 {
		if _, err := s.w.ExecContext(ctx, s.sql(qDeleteOldWindows), t); err != nil {
			return false, 0, s.wrap(name, err)
		}
	}
	if n > limit {
		return false, time.Duration(end-t) * time.Microsecond, nil
	}
	return true, 0, nil
}
