package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

var (
	qPutBusinessMessage = newQuery(`INSERT INTO business_messages (message_id, wamid, number, customer, inbound, created_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	qBusinessMessageByID    = newQuery(`SELECT ` + businessMessageColumns + ` FROM business_messages WHERE message_id = ?`)
	qBusinessMessageByWAMID = newQuery(`SELECT ` + businessMessageColumns + ` FROM business_messages WHERE wamid = ?`)
	qTouchWindow            = newQuery(`INSERT INTO business_windows (number, customer, last_inbound_at) VALUES (?, ?, ?)
		ON CONFLICT (number, customer) DO UPDATE SET last_inbound_at = excluded.last_inbound_at
		WHERE business_windows.last_inbound_at < excluded.last_inbound_at`)
	qLastInbound  = newQuery(`SELECT last_inbound_at FROM business_windows WHERE number = ? AND customer = ?`)
	bLastInbounds = newBulk(`SELECT customer, last_inbound_at FROM business_windows WHERE number = ? AND customer IN (`, `?`, `)`)

	qLockReach    = newQuery(`INSERT INTO business_reach_lock (business, n) VALUES (?, 1) ON CONFLICT (business) DO UPDATE SET n = business_reach_lock.n + 1`)
	qReachedAt    = newQuery(`SELECT reached_at FROM business_reach WHERE business = ? AND customer = ?`)
	qCountReached = newQuery(`SELECT COUNT(*) FROM business_reach WHERE business = ? AND reached_at >= ?`)
	qPutReach     = newQuery(`INSERT INTO business_reach (business, customer, reached_at) VALUES (?, ?, ?)
		ON CONFLICT (business, customer) DO UPDATE SET reached_at = excluded.reached_at`)
)

const businessMessageColumns = `message_id, wamid, number, customer, inbound, created_at`

// PutBusinessMessage stores a link once.
func (s *Store) PutBusinessMessage(ctx context.Context, m *parley.BusinessMessage) error {
	in := 0
	if m.Inbound {
		in = 1
	}
	if _, err := s.w.ExecContext(ctx, s.sql(qPutBusinessMessage), m.MessageID, m.WAMID, m.Number, m.Customer, in, micros(m.CreatedAt)); err != nil {
		return s.wrap("PutBusinessMessage", err)
	}
	return nil
}

func (s *Store) businessMessage(ctx context.Context, name string, q query, arg string) (*parley.BusinessMessage, error) {
	var m parley.BusinessMessage
	var in, created int64
	err := s.r.QueryRowContext(ctx, s.sql(q), arg).Scan(&m.MessageID, &m.WAMID, &m.Number, &m.Customer, &in, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound(name, "no business message %s", arg)
	}
	if err != nil {
		return nil, s.wrap(name, err)
	}
	m.Inbound, m.CreatedAt = in != 0, fromMicros(created)
	return &m, nil
}

// BusinessMessageByID returns the link of a Parley message id.
func (s *Store) BusinessMessageByID(ctx context.Context, id string) (*parley.BusinessMessage, error) {
	return s.businessMessage(ctx, "BusinessMessageByID", qBusinessMessageByID, id)
}

// BusinessMessageByWAMID returns the link of a wamid.
func (s *Store) BusinessMessageByWAMID(ctx context.Context, wamid string) (*parley.BusinessMessage, error) {
	return s.businessMessage(ctx, "BusinessMessageByWAMID", qBusinessMessageByWAMID, wamid)
}

// TouchWindow records a customer's message time, keeping the latest.
func (s *Store) TouchWindow(ctx context.Context, number, customer string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qTouchWindow), number, customer, micros(at)); err != nil {
		return s.wrap("TouchWindow", err)
	}
	return nil
}

// LastInbound returns the time of the customer's last message.
func (s *Store) LastInbound(ctx context.Context, number, customer string) (time.Time, error) {
	var at int64
	err := s.r.QueryRowContext(ctx, s.sql(qLastInbound), number, customer).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, s.wrap("LastInbound", err)
	}
	return fromMicros(at), nil
}

// LastInbounds returns the times of the customers' last messages.
func (s *Store) LastInbounds(ctx context.Context, number string, customers []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time, len(customers))
	args := make([]any, len(customers))
	for i, c := range customers {
		args[i] = c
	}
	err := s.eachChunk(bLastInbounds, []any{number}, args, func(text string, args []any) error {
		rows, err := s.r.QueryContext(ctx, text, args...)
		if err != nil {
			return err
		}
		return scanAll(rows, func(r scanner) error {
			var customer string
			var at int64
			if err := r.Scan(&customer, &at); err != nil {
				return err
			}
			out[customer] = fromMicros(at)
			return nil
		})
	})
	if err != nil {
		return nil, s.wrap("LastInbounds", err)
	}
	return out, nil
}

// Reach decides, under the business's lock row, whether a customer may be
// reached outside the window and records it.
func (s *Store) Reach(ctx context.Context, business, customer string, since, at time.Time, limit int) (bool, error) {
	ok := false
	err := s.writeTx(ctx, "Reach", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(qLockReach), business); err != nil {
			return err
		}
		var last int64
		err := tx.QueryRowContext(ctx, s.sql(qReachedAt), business, customer).Scan(&last)
		switch {
		case err == nil && last >= micros(since):
			ok = true // counted already in this window
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		case limit >= 0:
			var n int
			if err := tx.QueryRowContext(ctx, s.sql(qCountReached), business, micros(since)).Scan(&n); err != nil {
				return err
			}
			ok = n < limit
		default:
			ok = true
		}
		if !ok {
			return nil
		}
		_, err = tx.ExecContext(ctx, s.sql(qPutReach), business, customer, micros(at))
		return err
	})
	return ok, err
}
