package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// The consent ledger (migration 0011). An append locks the business's
// head row with an upsert (a row lock on PostgreSQL, which also makes a
// concurrent first append of a new business wait instead of failing;
// SQLite's write transaction holds the database), reads seq and hash
// from it, and writes entry, head, states and webhook events in the same
// transaction: appends of one business form a single chain on any number
// of nodes.

var (
	qLockConsentHead = newQuery(`INSERT INTO consent_heads (business, seq, hash) VALUES (?, 0, '')
		ON CONFLICT (business) DO UPDATE SET seq = consent_heads.seq RETURNING seq, hash`)
	qSetConsentHead  = newQuery(`UPDATE consent_heads SET seq = ?, hash = ? WHERE business = ?`)
	qConsentHead     = newQuery(`SELECT seq, hash FROM consent_heads WHERE business = ?`)
	qPutConsentEntry = newQuery(`INSERT INTO consent_entries (business, seq, number, customer, customer_key, action, purposes,
		source_type, source_id, evidence, salt, personal_digest, recorded_at, prev_hash, hash, erased_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`)
	qPutConsentState = newQuery(`INSERT INTO consent_states (business, customer_key, purpose, action, seq, at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (business, customer_key, purpose) DO UPDATE SET action = excluded.action, seq = excluded.seq, at = excluded.at`)
	qConsentStates = newQuery(`SELECT business, customer_key, purpose, action, seq, at FROM consent_states
		WHERE business = ? AND customer_key = ? ORDER BY purpose`)
	qConsentEntries = newQuery(`SELECT ` + consentColumns + ` FROM consent_entries
		WHERE business = ? AND seq > ? ORDER BY seq LIMIT ?`)
	qCustomerConsents = newQuery(`SELECT ` + consentColumns + ` FROM consent_entries
		WHERE customer_key = ? ORDER BY business, seq`)
	qCustomerConsentsOf = newQuery(`SELECT ` + consentColumns + ` FROM consent_entries
		WHERE customer_key = ? AND business = ? ORDER BY seq`)
	qEraseConsents = newQuery(`UPDATE consent_entries SET customer = '', evidence = '', salt = '', erased_at = ?
		WHERE customer_key = ? AND erased_at = 0`)
	qConsentKeywords    = newQuery(`SELECT stop, start, updated_at FROM consent_keywords WHERE business = ?`)
	qPutConsentKeywords = newQuery(`INSERT INTO consent_keywords (business, stop, start, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (business) DO UPDATE SET stop = excluded.stop, start = excluded.start, updated_at = excluded.updated_at`)

	qCustomerMessages = newQuery(`SELECT ` + businessMessageColumns + ` FROM business_messages WHERE customer = ? ORDER BY created_at, message_id`)
	qCustomerWindows  = newQuery(`SELECT number, last_inbound_at FROM business_windows WHERE customer = ? ORDER BY number`)
	qCustomerReach    = newQuery(`SELECT business, reached_at FROM business_reach WHERE customer = ? ORDER BY business`)
	qEraseMessagesOf  = newQuery(`DELETE FROM business_messages WHERE customer = ?`)
	qEraseWindowsOf   = newQuery(`DELETE FROM business_windows WHERE customer = ?`)
	qEraseReachOf     = newQuery(`DELETE FROM business_reach WHERE customer = ?`)
	// The business inbox's copies of the customer's conversations: their
	// messages (and agents' notes about them) first, then the conversations.
	qEraseInboxMessagesOf = newQuery(`DELETE FROM inbox_messages WHERE conversation IN (SELECT id FROM inbox_conversations WHERE customer = ?)`)
	qEraseInboxOf         = newQuery(`DELETE FROM inbox_conversations WHERE customer = ?`)
	// Website chats the customer moved to the messenger (webchat.go) are
	// theirs too; so is the number a visitor gave.
	qEraseMovedWebMessagesOf = newQuery(`DELETE FROM inbox_messages WHERE conversation IN
		(SELECT linked FROM inbox_conversations WHERE customer = ? AND linked <> '')`)
	qEraseMovedWebOf = newQuery(`DELETE FROM inbox_conversations WHERE id IN
		(SELECT linked FROM inbox_conversations WHERE customer = ? AND linked <> '')`)
	qEraseWebHandoffOf = newQuery(`UPDATE webchat_visitors SET handoff_phone = '', handoff_ref_hash = NULL, handoff_expires = 0
		WHERE handoff_phone = ?`)
)

const consentColumns = `business, seq, number, customer, customer_key, action, purposes, source_type, source_id, evidence,
	salt, personal_digest, recorded_at, prev_hash, hash, erased_at`

var _ parley.ConsentStore = (*Store)(nil)

// AppendConsent appends e to its business's ledger.
func (s *Store) AppendConsent(ctx context.Context, e *parley.ConsentEntry, events []parley.WebhookEvent) error {
	e.RecordedAt = fromMicros(micros(e.RecordedAt))
	return s.writeTx(ctx, "AppendConsent", func(tx *sql.Tx) error {
		var seq int64
		var prev string
		if err := tx.QueryRowContext(ctx, s.sql(qLockConsentHead), e.Business).Scan(&seq, &prev); err != nil {
			return err
		}
		states, err := s.consentStates(ctx, tx, e.Business, e.CustomerKey)
		if err != nil {
			return err
		}
		if err := parley.CheckConsentReplay(e, states); err != nil {
			return err
		}
		e.Seq, e.PrevHash = seq+1, prev
		e.Hash = parley.EntryHash(e)
		if _, err := tx.ExecContext(ctx, s.sql(qPutConsentEntry), e.Business, e.Seq, e.Number, e.Customer, e.CustomerKey, e.Action,
			strings.Join(e.Purposes, "\n"), e.Source.Type, e.Source.ID, e.Source.Evidence, e.Salt, e.PersonalDigest,
			micros(e.RecordedAt), e.PrevHash, e.Hash); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.sql(qSetConsentHead), e.Seq, e.Hash, e.Business); err != nil {
			return err
		}
		for _, p := range e.Purposes {
			if _, err := tx.ExecContext(ctx, s.sql(qPutConsentState), e.Business, e.CustomerKey, p, e.Action, e.Seq, micros(e.RecordedAt)); err != nil {
				return err
			}
		}
		return s.enqueueWebhooksTx(s.txOf(ctx, tx), events)
	})
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func (s *Store) consentStates(ctx context.Context, q queryer, business, key string) ([]parley.ConsentState, error) {
	rows, err := q.QueryContext(ctx, s.sql(qConsentStates), business, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []parley.ConsentState
	for rows.Next() {
		var st parley.ConsentState
		var at int64
		if err := rows.Scan(&st.Business, &st.CustomerKey, &st.Purpose, &st.Action, &st.Seq, &at); err != nil {
			return nil, err
		}
		st.At = fromMicros(at)
		out = append(out, st)
	}
	return out, rows.Err()
}

// ConsentStates returns a customer's current states with a business.
func (s *Store) ConsentStates(ctx context.Context, business, customerKey string) ([]parley.ConsentState, error) {
	out, err := s.consentStates(ctx, s.r, business, customerKey)
	if err != nil {
		return nil, s.wrap("ConsentStates", err)
	}
	return out, nil
}

func scanConsents(rows *sql.Rows) ([]parley.ConsentEntry, error) {
	defer rows.Close()
	var out []parley.ConsentEntry
	for rows.Next() {
		var e parley.ConsentEntry
		var purposes string
		var rec, erased int64
		if err := rows.Scan(&e.Business, &e.Seq, &e.Number, &e.Customer, &e.CustomerKey, &e.Action, &purposes, &e.Source.Type,
			&e.Source.ID, &e.Source.Evidence, &e.Salt, &e.PersonalDigest, &rec, &e.PrevHash, &e.Hash, &erased); err != nil {
			return nil, err
		}
		if purposes != "" {
			e.Purposes = strings.Split(purposes, "\n")
		}
		e.RecordedAt, e.ErasedAt = fromMicros(rec), fromMicros(erased)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ConsentEntries returns a page of a business's ledger.
func (s *Store) ConsentEntries(ctx context.Context, business string, afterSeq int64, limit int) ([]parley.ConsentEntry, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qConsentEntries), business, afterSeq, limit)
	if err != nil {
		return nil, s.wrap("ConsentEntries", err)
	}
	out, err := scanConsents(rows)
	if err != nil {
		return nil, s.wrap("ConsentEntries", err)
	}
	return out, nil
}

// ConsentHead returns the last seq and hash of a ledger.
func (s *Store) ConsentHead(ctx context.Context, business string) (int64, string, error) {
	var seq int64
	var hash string
	err := s.r.QueryRowContext(ctx, s.sql(qConsentHead), business).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", s.wrap("ConsentHead", err)
	}
	return seq, hash, nil
}

// CustomerConsents returns a customer's entries.
func (s *Store) CustomerConsents(ctx context.Context, business, customerKey string) ([]parley.ConsentEntry, error) {
	var rows *sql.Rows
	var err error
	if business == "" {
		rows, err = s.r.QueryContext(ctx, s.sql(qCustomerConsents), customerKey)
	} else {
		rows, err = s.r.QueryContext(ctx, s.sql(qCustomerConsentsOf), customerKey, business)
	}
	if err != nil {
		return nil, s.wrap("CustomerConsents", err)
	}
	out, err := scanConsents(rows)
	if err != nil {
		return nil, s.wrap("CustomerConsents", err)
	}
	return out, nil
}

// EraseConsents empties the personal fields of a customer's entries.
func (s *Store) EraseConsents(ctx context.Context, customerKey string, at time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, s.sql(qEraseConsents), micros(at), customerKey)
	if err != nil {
		return 0, s.wrap("EraseConsents", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ConsentKeywords returns a business's keywords, the defaults when unset.
func (s *Store) ConsentKeywords(ctx context.Context, business string) (*parley.ConsentKeywords, error) {
	var stop, start string
	var at int64
	err := s.r.QueryRowContext(ctx, s.sql(qConsentKeywords), business).Scan(&stop, &start, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return &parley.ConsentKeywords{Business: business, Stop: append([]string(nil), parley.DefaultStopKeywords...),
			Start: append([]string(nil), parley.DefaultStartKeywords...)}, nil
	}
	if err != nil {
		return nil, s.wrap("ConsentKeywords", err)
	}
	split := func(s string) []string {
		if s == "" {
			return []string{}
		}
		return strings.Split(s, "\n")
	}
	return &parley.ConsentKeywords{Business: business, Stop: split(stop), Start: split(start), UpdatedAt: fromMicros(at)}, nil
}

// PutConsentKeywords replaces a business's keywords.
func (s *Store) PutConsentKeywords(ctx context.Context, k *parley.ConsentKeywords) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qPutConsentKeywords), k.Business, strings.Join(k.Stop, "\n"), strings.Join(k.Start, "\n"),
		micros(k.UpdatedAt)); err != nil {
		return s.wrap("PutConsentKeywords", err)
	}
	return nil
}

// BusinessDataOf returns the business platform's rows about a customer.
func (s *Store) BusinessDataOf(ctx context.Context, customer string) (*parley.BusinessDataOf, error) {
	out := &parley.BusinessDataOf{Messages: []parley.BusinessMessage{}, Windows: []parley.CustomerWindow{}, Reach: []parley.CustomerReach{}}
	rows, err := s.r.QueryContext(ctx, s.sql(qCustomerMessages), customer)
	if err != nil {
		return nil, s.wrap("BusinessDataOf", err)
	}
	for rows.Next() {
		var m parley.BusinessMessage
		var in, created int64
		if err := rows.Scan(&m.MessageID, &m.WAMID, &m.Number, &m.Customer, &in, &created); err != nil {
			rows.Close()
			return nil, s.wrap("BusinessDataOf", err)
		}
		m.Inbound, m.CreatedAt = in != 0, fromMicros(created)
		out.Messages = append(out.Messages, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.wrap("BusinessDataOf", err)
	}
	rows, err = s.r.QueryContext(ctx, s.sql(qCustomerWindows), customer)
	if err != nil {
		return nil, s.wrap("BusinessDataOf", err)
	}
	for rows.Next() {
		var w parley.CustomerWindow
		var at int64
		if err := rows.Scan(&w.Number, &at); err != nil {
			rows.Close()
			return nil, s.wrap("BusinessDataOf", err)
		}
		w.LastInboundAt = fromMicros(at)
		out.Windows = append(out.Windows, w)
	}
	rows.Close()
	rows, err = s.r.QueryContext(ctx, s.sql(qCustomerReach), customer)
	if err != nil {
		return nil, s.wrap("BusinessDataOf", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r parley.CustomerReach
		var at int64
		if err := rows.Scan(&r.Business, &at); err != nil {
			return nil, s.wrap("BusinessDataOf", err)
		}
		r.ReachedAt = fromMicros(at)
		out.Reach = append(out.Reach, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("BusinessDataOf", err)
	}
	return out, nil
}

// EraseBusinessDataOf deletes the business platform's rows about a
// customer, in one transaction.
func (s *Store) EraseBusinessDataOf(ctx context.Context, customer string) (int, error) {
	total := 0
	err := s.writeTx(ctx, "EraseBusinessDataOf", func(tx *sql.Tx) error {
		total = 0
		for _, q := range []query{qEraseMessagesOf, qEraseWindowsOf, qEraseReachOf, qEraseMovedWebMessagesOf, qEraseMovedWebOf,
			qEraseWebHandoffOf, qEraseInboxMessagesOf, qEraseInboxOf} {
			res, err := tx.ExecContext(ctx, s.sql(q), customer)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			total += int(n)
		}
		return nil
	})
	return total, err
}
