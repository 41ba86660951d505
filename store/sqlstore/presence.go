package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

var (
	// Last-seen times only move forward: a node that reports late must
	// not make a device look as if it was seen earlier.
	qSetOnline = newQuery(`UPDATE devices SET node = ?,
			last_seen_at = CASE WHEN last_seen_at > ? THEN last_seen_at ELSE ? END
		WHERE account = ? AND id = ? AND revoked_at = 0`)
	qSetOffline = newQuery(`UPDATE devices SET node = CASE WHEN node = ? THEN '' ELSE node END,
			last_seen_at = CASE WHEN last_seen_at > ? THEN last_seen_at ELSE ? END
		WHERE account = ? AND id = ?`)
	qHeartbeat = newQuery(`INSERT INTO nodes (id, heartbeat_at) VALUES (?, ?)
		ON CONFLICT (id) DO UPDATE SET heartbeat_at = CASE WHEN nodes.heartbeat_at > excluded.heartbeat_at THEN nodes.heartbeat_at ELSE excluded.heartbeat_at END`)
	qPresence = newQuery(`SELECT
			EXISTS (SELECT 1 FROM devices d JOIN nodes n ON n.id = d.node
				WHERE d.account = a.id AND d.revoked_at = 0 AND n.heartbeat_at > ?),
			COALESCE((SELECT MAX(last_seen_at) FROM devices WHERE account = a.id), 0)
		FROM accounts a WHERE a.id = ?`)
)

// SetOnline records that the active device is connected to node, and
// counts the connection as a sighting.
func (s *Store) SetOnline(ctx context.Context, account string, device uint32, node string, at time.Time) error {
	us := micros(at)
	res, err := s.w.ExecContext(ctx, s.sql(qSetOnline), node, us, us, account, int64(device))
	if err != nil {
		return s.wrap("SetOnline", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("SetOnline", err)
	} else if !ok {
		return s.notFound("SetOnline", "no active device %s", parley.DeviceAddress(account, device))
	}
	return nil
}

// SetOffline clears the device's node if it is still node (a newer
// connection on another node wins) and records at as last seen.
func (s *Store) SetOffline(ctx context.Context, account string, device uint32, node string, at time.Time) error {
	us := micros(at)
	res, err := s.w.ExecContext(ctx, s.sql(qSetOffline), node, us, us, account, int64(device))
	if err != nil {
		return s.wrap("SetOffline", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("SetOffline", err)
	} else if !ok {
		return s.notFound("SetOffline", "device not found")
	}
	return nil
}

// Heartbeat records that node is alive at the given time.
func (s *Store) Heartbeat(ctx context.Context, node string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qHeartbeat), node, micros(at)); err != nil {
		return s.wrap("Heartbeat", err)
	}
	return nil
}

// Presence reports whether an active device of the account is connected
// to a node whose heartbeat is newer than aliveAfter, and the latest
// last-seen time of all its devices; ENOTFOUND for an unknown account.
func (s *Store) Presence(ctx context.Context, account string, aliveAfter time.Time) (bool, time.Time, error) {
	var online bool
	var seen int64
	err := s.r.QueryRowContext(ctx, s.sql(qPresence), micros(aliveAfter), account).Scan(&online, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return false, time.Time{}, s.notFound("Presence", "account not found")
	}
	if err != nil {
		return false, time.Time{}, s.wrap("Presence", err)
	}
	return online, fromMicros(seen), nil
}
