package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

var (
	qPutCode = newQuery(`INSERT INTO codes (phone, hash, created_at, expires_at, attempts, locked_until) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (phone) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at, expires_at = excluded.expires_at,
			attempts = excluded.attempts, locked_until = excluded.locked_until`)
	qCode          = newQuery(`SELECT phone, hash, created_at, expires_at, attempts, locked_until FROM codes WHERE phone = ?`)
	qRecordAttempt = newQuery(`UPDATE codes SET attempts = attempts + 1, locked_until = ? WHERE phone = ? RETURNING attempts`)
	qDeleteCode    = newQuery(`DELETE FROM codes WHERE phone = ?`)
)

// PutCode inserts c or replaces the code pending for c.Phone.
func (s *Store) PutCode(ctx context.Context, c *parley.Code) error {
	_, err := s.w.ExecContext(ctx, s.sql(qPutCode), c.Phone, c.Hash, micros(c.CreatedAt), micros(c.ExpiresAt), c.Attempts, micros(c.LockedUntil))
	if err != nil {
		return s.wrap("PutCode", err)
	}
	return nil
}

// Code returns ENOTFOUND when no code is pending for phone. It reads
// through the write pool: a code is checked right after it is changed,
// and attempts must never be undercounted.
func (s *Store) Code(ctx context.Context, phone string) (*parley.Code, error) {
	var c parley.Code
	var created, expires, locked int64
	err := s.w.QueryRowContext(ctx, s.sql(qCode), phone).Scan(&c.Phone, &c.Hash, &created, &expires, &c.Attempts, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Code", "no code pending")
	}
	if err != nil {
		return nil, s.wrap("Code", err)
	}
	c.CreatedAt, c.ExpiresAt, c.LockedUntil = fromMicros(created), fromMicros(expires), fromMicros(locked)
	c.Hash = blob(c.Hash)
	return &c, nil
}

// RecordAttempt counts a failed attempt atomically, sets LockedUntil and
// returns the new count; ENOTFOUND when no code is pending.
func (s *Store) RecordAttempt(ctx context.Context, phone string, lockedUntil time.Time) (int, error) {
	var n int
	err := s.w.QueryRowContext(ctx, s.sql(qRecordAttempt), micros(lockedUntil), phone).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, s.notFound("RecordAttempt", "no code pending")
	}
	if err != nil {
		return 0, s.wrap("RecordAttempt", err)
	}
	return n, nil
}

// DeleteCode deletes the pending code. It returns ENOTFOUND when there
// was none, so that of two verifications racing for one code only one
// can succeed.
func (s *Store) DeleteCode(ctx context.Context, phone string) error {
	res, err := s.w.ExecContext(ctx, s.sql(qDeleteCode), phone)
	if err != nil {
		return s.wrap("DeleteCode", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("DeleteCode", err)
	} else if !ok {
		return s.notFound("DeleteCode", "no code pending")
	}
	return nil
}
