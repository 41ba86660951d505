package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

const qrLinkColumns = `code, business, number, account, prefilled, created_at, updated_at, deleted_at`

var (
	// qLockQRNumber gets the dialect's LockRows (lockText): creations on
	// one number take turns, so that two cannot pass the limit together.
	qLockQRNumber = newQuery(`SELECT id FROM business_numbers WHERE id = ?`)
	qCountQRLinks = newQuery(`SELECT COUNT(*) FROM message_qrdls WHERE number = ? AND deleted_at = 0`)
	qInsertQRLink = newQuery(`INSERT INTO message_qrdls (` + qrLinkColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING`)
	qQRLink       = newQuery(`SELECT ` + qrLinkColumns + ` FROM message_qrdls WHERE code = ?`)
	qQRLinksFirst = newQuery(`SELECT ` + qrLinkColumns + ` FROM message_qrdls WHERE number = ? AND deleted_at = 0 ORDER BY created_at DESC, code DESC LIMIT ?`)
	qQRLinksAfter = newQuery(`SELECT ` + qrLinkColumns + ` FROM message_qrdls WHERE number = ? AND deleted_at = 0 AND (created_at, code) < (SELECT created_at, code FROM message_qrdls WHERE code = ?) ORDER BY created_at DESC, code DESC LIMIT ?`)
	qUpdateQRLink = newQuery(`UPDATE message_qrdls SET prefilled = ?, updated_at = ? WHERE code = ? AND deleted_at = 0`)
	qDeleteQRLink = newQuery(`UPDATE message_qrdls SET deleted_at = ?, updated_at = ? WHERE code = ? AND deleted_at = 0`)
)

// CreateQRLink stores a new code unless the number has max live codes.
func (s *Store) CreateQRLink(ctx context.Context, l *parley.QRLink, max int) error {
	err := s.writeTx(ctx, "CreateQRLink", func(tx *sql.Tx) error {
		var id string
		if err := tx.QueryRowContext(ctx, s.lockText(qLockQRNumber), l.Number).Scan(&id); errors.Is(err, sql.ErrNoRows) {
			return s.notFound("CreateQRLink", "no business number %s", l.Number)
		} else if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, s.sql(qCountQRLinks), l.Number).Scan(&n); err != nil {
			return err
		}
		if n >= max {
			return parley.Errorf(parley.ERATELIMIT, "Phone number %s has %d QR codes and short links already, the most it can have.", l.Number, n)
		}
		res, err := tx.ExecContext(ctx, s.sql(qInsertQRLink), l.Code, l.Business, l.Number, l.Account, l.Prefilled,
			micros(l.CreatedAt), micros(l.UpdatedAt))
		if err != nil {
			return err
		}
		if ok, err := rowsAffected(res); err != nil {
			return err
		} else if !ok {
			return parley.Errorf(parley.ECONFLICT, "code %s exists", l.Code)
		}
		return nil
	})
	return err
}

func scanQRLink(sc scanner) (*parley.QRLink, error) {
	var l parley.QRLink
	var created, updated, deleted int64
	if err := sc.Scan(&l.Code, &l.Business, &l.Number, &l.Account, &l.Prefilled, &created, &updated, &deleted); err != nil {
		return nil, err
	}
	l.CreatedAt, l.UpdatedAt, l.DeletedAt = fromMicros(created), fromMicros(updated), fromMicros(deleted)
	return &l, nil
}

// QRLink returns a code, deleted ones included.
func (s *Store) QRLink(ctx context.Context, code string) (*parley.QRLink, error) {
	l, err := scanQRLink(s.r.QueryRowContext(ctx, s.sql(qQRLink), code))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("QRLink", "no code %s", code)
	}
	if err != nil {
		return nil, s.wrap("QRLink", err)
	}
	return l, nil
}

// QRLinks lists a number's live codes, newest first.
func (s *Store) QRLinks(ctx context.Context, number, after string, limit int) ([]parley.QRLink, bool, error) {
	var rows *sql.Rows
	var err error
	if after == "" {
		rows, err = s.r.QueryContext(ctx, s.sql(qQRLinksFirst), number, limit+1)
	} else {
		rows, err = s.r.QueryContext(ctx, s.sql(qQRLinksAfter), number, after, limit+1)
	}
	if err != nil {
		return nil, false, s.wrap("QRLinks", err)
	}
	defer rows.Close()
	var out []parley.QRLink
	for rows.Next() {
		l, err := scanQRLink(rows)
		if err != nil {
			return nil, false, s.wrap("QRLinks", err)
		}
		out = append(out, *l)
	}
	if err := rows.Err(); err != nil {
		return nil, false, s.wrap("QRLinks", err)
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	return out, more, nil
}

// UpdateQRLink changes a live code's prefilled message.
func (s *Store) UpdateQRLink(ctx context.Context, code, prefilled string, at time.Time) error {
	return s.changeQRLink(ctx, "UpdateQRLink", code, s.sql(qUpdateQRLink), prefilled, micros(at), code)
}

// DeleteQRLink marks a live code deleted.
func (s *Store) DeleteQRLink(ctx context.Context, code string, at time.Time) error {
	return s.changeQRLink(ctx, "DeleteQRLink", code, s.sql(qDeleteQRLink), micros(at), micros(at), code)
}

func (s *Store) changeQRLink(ctx context.Context, name, code, q string, args ...any) error {
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return s.wrap(name, err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap(name, err)
	} else if !ok {
		return s.notFound(name, "no live code %s", code)
	}
	return nil
}
