package sqlstore

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
)

var (
	qHit = newQuery(`INSERT INTO rates (rate_key, window_start, hits, expires_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (rate_key, window_start) DO UPDATE SET hits = rates.hits + 1
		RETURNING hits`)
	qDeleteOldWindows = newQuery(`DELETE FROM rates WHERE expires_at <= ?`)
)

// sweepEvery is how many hits pass between deletions of ended windows.
const sweepEvery = 1024

// Hit counts one event for key in the fixed window containing now.
// Windows are aligned to multiples of window since the Unix epoch, so
// that every node agrees on them.
func (s *Store) Hit(ctx context.Context, key string, window time.Duration, limit int, now time.Time) (bool, time.Duration, error) {
	w := window.Microseconds()
	if w <= 0 {
		return false, 0, &parley.Error{Code: parley.EINVALID, Op: s.op("Hit"), Message: "rate window must be at least a microsecond"}
	}
	t := now.UnixMicro()
	start := t - t%w
	end := start + w
	var n int
	if err := s.w.QueryRowContext(ctx, s.sql(qHit), key, start, end).Scan(&n); err != nil {
		return false, 0, s.wrap("Hit", err)
	}
	if s.hits.Add(1)%sweepEvery == 0 {
		if _, err := s.w.ExecContext(ctx, s.sql(qDeleteOldWindows), t); err != nil {
			return false, 0, s.wrap("Hit", err)
		}
	}
	if n > limit {
		return false, time.Duration(end-t) * time.Microsecond, nil
	}
	return true, 0, nil
}
