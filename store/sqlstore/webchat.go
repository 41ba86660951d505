package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

const webVisitorColumns = `id, business, number, hash, origin, created_at, last_seen_at, handoff_phone, handoff_ref_hash, handoff_expires,
	moved_to, moved_at`

var (
	qInsertWebVisitor = newQuery(`INSERT INTO webchat_visitors (` + webVisitorColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, '', NULL, 0, '', 0)`)
	qWebVisitor       = newQuery(`SELECT ` + webVisitorColumns + ` FROM webchat_visitors WHERE hash = ?`)
	qTouchWebVisitor  = newQuery(`UPDATE webchat_visitors SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`)
	qSetWebHandoff    = newQuery(`UPDATE webchat_visitors SET handoff_phone = ?, handoff_ref_hash = ?, handoff_expires = ?
		WHERE id = ? AND moved_to = ''`)
	qWebVisitorMoved = newQuery(`SELECT moved_to FROM webchat_visitors WHERE id = ?`)
	qClaimWebHandoff = newQuery(`SELECT ` + webVisitorColumns + ` FROM webchat_visitors WHERE handoff_ref_hash = ? AND number = ?
		AND handoff_phone = ? AND handoff_expires > ? AND moved_to = ''`)
	qMoveWebVisitor = newQuery(`UPDATE webchat_visitors SET handoff_ref_hash = NULL, handoff_expires = 0, moved_to = ?, moved_at = ?
		WHERE id = ? AND moved_to = ''`)
	qLinkConversation = newQuery(`UPDATE inbox_conversations SET linked = ?, version = version + 1 WHERE id = ?`)
	qWebOrigins       = newQuery(`SELECT origin FROM webchat_origins WHERE business = ? ORDER BY origin`)
	qDeleteWebOrigins = newQuery(`DELETE FROM webchat_origins WHERE business = ?`)
	qInsertWebOrigin  = newQuery(`INSERT INTO webchat_origins (business, origin) VALUES (?, ?) ON CONFLICT DO NOTHING`)
)

func scanWebVisitor(r scanner) (*parley.WebVisitor, error) {
	var v parley.WebVisitor
	var created, seen, expires, moved int64
	if err := r.Scan(&v.ID, &v.Business, &v.Number, &v.Hash, &v.Origin, &created, &seen, &v.HandoffPhone, &v.HandoffRefHash, &expires,
		&v.MovedTo, &moved); err != nil {
		return nil, err
	}
	v.HandoffRefHash = blob(v.HandoffRefHash)
	v.CreatedAt, v.LastSeenAt, v.HandoffExpires, v.MovedAt = fromMicros(created), fromMicros(seen), fromMicros(expires), fromMicros(moved)
	return &v, nil
}

// CreateWebVisitor stores a new visitor.
func (s *Store) CreateWebVisitor(ctx context.Context, v *parley.WebVisitor) error {
	_, err := s.w.ExecContext(ctx, s.sql(qInsertWebVisitor), v.ID, v.Business, v.Number, v.Hash, v.Origin, micros(v.CreatedAt), micros(v.CreatedAt))
	if err != nil {
		return s.wrap("CreateWebVisitor", err)
	}
	return nil
}

// WebVisitor returns the visitor whose token hashes to hash.
func (s *Store) WebVisitor(ctx context.Context, hash []byte) (*parley.WebVisitor, error) {
	v, err := scanWebVisitor(s.r.QueryRowContext(ctx, s.sql(qWebVisitor), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("WebVisitor", "no such visitor")
	}
	if err != nil {
		return nil, s.wrap("WebVisitor", err)
	}
	return v, nil
}

// TouchWebVisitor records the visitor's last request.
func (s *Store) TouchWebVisitor(ctx context.Context, id string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qTouchWebVisitor), micros(at), id, micros(at)); err != nil {
		return s.wrap("TouchWebVisitor", err)
	}
	return nil
}

// SetWebHandoff stores the number a visitor gave and a new reference.
func (s *Store) SetWebHandoff(ctx context.Context, id, phone string, refHash []byte, expires time.Time) error {
	return s.writeTx(ctx, "SetWebHandoff", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.sql(qSetWebHandoff), phone, refHash, micros(expires), id)
		if err != nil {
			return err
		}
		if ok, err := rowsAffected(res); err != nil || ok {
			return err
		}
		var moved string
		err = tx.QueryRowContext(ctx, s.sql(qWebVisitorMoved), id).Scan(&moved)
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound("SetWebHandoff", "no such visitor")
		}
		if err != nil {
			return err
		}
		return parley.Errorf(parley.ECONFLICT, "the chat has moved to the messenger already")
	})
}

// ClaimWebHandoff uses a visitor's one-time reference and links the
// web conversation to the messenger conversation movedTo.
func (s *Store) ClaimWebHandoff(ctx context.Context, number string, refHash []byte, phone, movedTo string, now time.Time) (*parley.WebVisitor, error) {
	var v *parley.WebVisitor
	err := s.writeTx(ctx, "ClaimWebHandoff", func(tx *sql.Tx) error {
		var err error
		v, err = scanWebVisitor(tx.QueryRowContext(ctx, s.sql(qClaimWebHandoff)+s.d.LockRows, refHash, number, phone, micros(now)))
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound("ClaimWebHandoff", "no such handoff reference")
		}
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.sql(qMoveWebVisitor), movedTo, micros(now), v.ID)
		if err != nil {
			return err
		}
		if ok, err := rowsAffected(res); err != nil {
			return err
		} else if !ok {
			return s.notFound("ClaimWebHandoff", "no such handoff reference")
		}
		web := parley.ConversationID(v.Number, parley.WebCustomer(v.ID))
		if _, err := tx.ExecContext(ctx, s.sql(qLinkConversation), movedTo, web); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sql(qLinkConversation), web, movedTo)
		return err
	})
	if err != nil {
		return nil, err
	}
	v.HandoffRefHash, v.HandoffExpires = nil, time.Time{}
	v.MovedTo, v.MovedAt = movedTo, now.UTC().Truncate(time.Microsecond)
	return v, nil
}

// WebOrigins lists a business's allowed website origins.
func (s *Store) WebOrigins(ctx context.Context, business string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qWebOrigins), business)
	if err != nil {
		return nil, s.wrap("WebOrigins", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var o string
		if err := rows.Scan(&o); err != nil {
			return nil, s.wrap("WebOrigins", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("WebOrigins", err)
	}
	return out, nil
}

// SetWebOrigins replaces a business's allowed website origins.
func (s *Store) SetWebOrigins(ctx context.Context, business string, origins []string) error {
	set := []string{}
	for _, o := range origins {
		n, err := parley.NormalizeWebOrigin(o)
		if err != nil {
			return err
		}
		if !slices.Contains(set, n) {
			set = append(set, n)
		}
	}
	if len(set) > parley.MaxWebOrigins {
		return parley.Errorf(parley.ETOOLARGE, "at most %d website origins", parley.MaxWebOrigins)
	}
	return s.writeTx(ctx, "SetWebOrigins", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(qDeleteWebOrigins), business); err != nil {
			return err
		}
		for _, o := range set {
			if _, err := tx.ExecContext(ctx, s.sql(qInsertWebOrigin), business, o); err != nil {
				return err
			}
		}
		return nil
	})
}
