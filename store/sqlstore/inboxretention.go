package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/parley-chat/parley"
)

var (
	// The candidates of one batch (86,400,000,000 µs per retention day): resolved conversations past their
	// business's retention (by the (business, last_at) index) and website
	// visitors' conversations past the web retention (by the partial
	// index inbox_conversations_web, whose predicate is repeated here
	// literally so that the planners use it).
	qInboxSweepCandidates = newQuery(`SELECT c.id, c.business, c.version, 0 FROM inbox_settings s
		JOIN inbox_conversations c ON c.business = s.business AND c.last_at < CAST(? AS BIGINT) - s.retention_days * 86400000000
		WHERE s.retention_days > 0 AND c.state = 'resolved'
		UNION ALL
		SELECT id, business, version, 1 FROM inbox_conversations WHERE customer LIKE 'web:%' AND last_at < ?
		LIMIT ?`)
	// The delete repeats the version seen: a conversation that changed
	// since (a new message, reopened) stays.
	qInboxSweepConversation = newQuery(`DELETE FROM inbox_conversations WHERE id = ? AND version = ?`)
	qInboxSweepMessages     = newQuery(`DELETE FROM inbox_messages WHERE conversation = ?`)
	qInboxSweepVisitors     = newQuery(`DELETE FROM webchat_visitors WHERE id IN
		(SELECT id FROM webchat_visitors WHERE last_seen_at < ? LIMIT ?)`)
)

// maxSweepBatches bounds one SweepInbox call; the rest waits for the
// next sweep.
const maxSweepBatches = 100

// SweepInbox deletes conversations past their retention in batches of
// limit per transaction.
func (s *Store) SweepInbox(ctx context.Context, now, webBefore time.Time, limit int) ([]parley.InboxSwept, error) {
	if limit <= 0 {
		limit = 200
	}
	web := micros(webBefore) // 0 matches nothing: last_at is never negative
	byBusiness := map[string]*parley.InboxSwept{}
	var order []string
	count := func(business string) *parley.InboxSwept {
		x, ok := byBusiness[business]
		if !ok {
			x = &parley.InboxSwept{Business: business}
			byBusiness[business] = x
			order = append(order, business)
		}
		return x
	}
	for range maxSweepBatches {
		type candidate struct {
			id, business string
			version      int64
			web          bool
		}
		var found int
		err := s.writeTx(ctx, "SweepInbox", func(tx *sql.Tx) error {
			rows, err := tx.QueryContext(ctx, s.sql(qInboxSweepCandidates), micros(now), web, limit)
			if err != nil {
				return err
			}
			var cs []candidate
			seen := map[string]bool{}
			for rows.Next() {
				var c candidate
				var isWeb int
				if err := rows.Scan(&c.id, &c.business, &c.version, &isWeb); err != nil {
					rows.Close()
					return err
				}
				c.web = isWeb != 0
				if !seen[c.id] {
					seen[c.id] = true
					cs = append(cs, c)
				}
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if err := rows.Err(); err != nil {
				return err
			}
			found = len(cs)
			for _, c := range cs {
				res, err := tx.ExecContext(ctx, s.sql(qInboxSweepConversation), c.id, c.version)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					continue
				}
				res, err = tx.ExecContext(ctx, s.sql(qInboxSweepMessages), c.id)
				if err != nil {
					return err
				}
				m, _ := res.RowsAffected()
				x := count(c.business)
				if c.web {
					x.Web++
				} else {
					x.Conversations++
				}
				x.Messages += int(m)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if found < limit {
			break
		}
	}
	if web > 0 {
		for range maxSweepBatches {
			res, err := s.w.ExecContext(ctx, s.sql(qInboxSweepVisitors), web, limit)
			if err != nil {
				return nil, s.wrap("SweepInbox", err)
			}
			if n, _ := res.RowsAffected(); n < int64(limit) {
				break
			}
		}
	}
	out := make([]parley.InboxSwept, 0, len(order))
	for _, b := range order {
		out = append(out, *byBusiness[b])
	}
	return out, nil
}
