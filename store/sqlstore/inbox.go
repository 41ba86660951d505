package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

const conversationColumns = `id, business, number, customer, state, assignee, labels, unread, last_sealed, last_at, last_inbound_at,
	away_sent_at, version, created_at, linked`

const inboxMessageColumns = `id, conversation, business, direction, type, sealed, context_id, status, error_code, agent, created_at, updated_at`

var (
	qInsertConversation = newQuery(`INSERT INTO inbox_conversations (id, business, number, customer, state, last_sealed, last_at,
		version, created_at) VALUES (?, ?, ?, ?, 'open', ?, ?, 0, ?) ON CONFLICT DO NOTHING`)
	qInsertInboxMessage = newQuery(`INSERT INTO inbox_messages (` + inboxMessageColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`)
	// A new message's conversation, created at its final state or
	// updated, in one statement: an inbound message counts as unread,
	// reopens a resolved conversation and moves last_inbound_at; either
	// direction moves last_at and the last message shown if it is newer.
	// A conversation is created with version 1, and every recording of a
	// message moves its version up, so version 1 in the answer means this
	// statement created it.
	qUpsertConversationInbound = newQuery(`INSERT INTO inbox_conversations (id, business, number, customer, state, unread,
		last_sealed, last_at, last_inbound_at, version, created_at) VALUES (?, ?, ?, ?, 'open', 1, ?, ?, ?, 1, ?)
		ON CONFLICT (id) DO UPDATE SET unread = inbox_conversations.unread + 1,
		last_inbound_at = CASE WHEN inbox_conversations.last_inbound_at < excluded.last_inbound_at THEN excluded.last_inbound_at
			ELSE inbox_conversations.last_inbound_at END,
		state = CASE WHEN inbox_conversations.state = 'resolved' THEN 'open' ELSE inbox_conversations.state END,
		last_sealed = CASE WHEN inbox_conversations.last_at <= excluded.last_at THEN excluded.last_sealed ELSE inbox_conversations.last_sealed END,
		last_at = CASE WHEN inbox_conversations.last_at < excluded.last_at THEN excluded.last_at ELSE inbox_conversations.last_at END,
		version = inbox_conversations.version + 1 RETURNING ` + conversationColumns)
	qUpsertConversationOutbound = newQuery(`INSERT INTO inbox_conversations (id, business, number, customer, state,
		last_sealed, last_at, version, created_at) VALUES (?, ?, ?, ?, 'open', ?, ?, 1, ?)
		ON CONFLICT (id) DO UPDATE SET
		last_sealed = CASE WHEN inbox_conversations.last_at <= excluded.last_at THEN excluded.last_sealed ELSE inbox_conversations.last_sealed END,
		last_at = CASE WHEN inbox_conversations.last_at < excluded.last_at THEN excluded.last_at ELSE inbox_conversations.last_at END,
		version = inbox_conversations.version + 1 RETURNING ` + conversationColumns)
	qInboxMessageAgent = newQuery(`UPDATE inbox_messages SET agent = ? WHERE id = ? AND agent = ''`)
	qConversationBump  = newQuery(`UPDATE inbox_conversations SET version = version + 1 WHERE id = ? RETURNING ` + conversationColumns)
	qConversation      = newQuery(`SELECT ` + conversationColumns + ` FROM inbox_conversations WHERE id = ?`)
	qConversations     = newQuery(`SELECT ` + conversationColumns + ` FROM inbox_conversations WHERE business = ?
		AND (? = '' OR state = ?) AND (? = '' OR assignee = ?) AND (? = '' OR labels LIKE ?) AND (? = 0 OR unread > 0)
		AND (? = '' OR customer LIKE ?) AND (CAST(? AS BIGINT) = 0 OR last_at < ?)
		ORDER BY last_at DESC, id LIMIT ?`)
	qUpdateConversation = newQuery(`UPDATE inbox_conversations SET state = ?, assignee = ?, labels = ?, unread = ?, away_sent_at = ?,
		version = version + 1 WHERE id = ? AND version = ? RETURNING version`)
	qSetInboxStatus = newQuery(`UPDATE inbox_messages SET status = ?, error_code = ?, updated_at = ? WHERE id = ? AND direction = 'out'`)
	qInboxMessage   = newQuery(`SELECT ` + inboxMessageColumns + ` FROM inbox_messages WHERE id = ?`)
	qInboxMessages  = newQuery(`SELECT ` + inboxMessageColumns + ` FROM inbox_messages WHERE conversation = ? AND (CAST(? AS BIGINT) = 0 OR created_at < ?)
		ORDER BY created_at DESC, id DESC LIMIT ?`)
	qCustomerConversations = newQuery(`SELECT ` + conversationColumns + ` FROM inbox_conversations WHERE customer = ? ORDER BY created_at, id`)
	qRecentInboxMessages   = newQuery(`SELECT ` + inboxMessageColumns + ` FROM inbox_messages WHERE business = ? AND direction <> 'note'
		ORDER BY created_at DESC, id DESC LIMIT ?`)
)

// labelsText stores labels as ",a,b," so that one LIKE finds a label.
func labelsText(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return "," + strings.Join(l, ",") + ","
}

func labelsOf(s string) []string {
	var out []string
	for _, l := range strings.Split(s, ",") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func scanConversation(r scanner) (*parley.Conversation, error) {
	var c parley.Conversation
	var labels string
	var lastAt, inAt, awayAt, created int64
	if err := r.Scan(&c.ID, &c.Business, &c.Number, &c.Customer, &c.State, &c.Assignee, &labels, &c.Unread, &c.LastSealed,
		&lastAt, &inAt, &awayAt, &c.Version, &created, &c.Linked); err != nil {
		return nil, err
	}
	c.Labels, c.LastSealed = labelsOf(labels), blob(c.LastSealed)
	c.LastAt, c.LastInboundAt, c.AwaySentAt, c.CreatedAt = fromMicros(lastAt), fromMicros(inAt), fromMicros(awayAt), fromMicros(created)
	return &c, nil
}

func scanInboxMessage(r scanner) (*parley.InboxMessage, error) {
	var m parley.InboxMessage
	var created, updated int64
	if err := r.Scan(&m.ID, &m.Conversation, &m.Business, &m.Direction, &m.Type, &m.Sealed, &m.ContextID, &m.Status, &m.ErrorCode,
		&m.Agent, &created, &updated); err != nil {
		return nil, err
	}
	m.CreatedAt, m.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &m, nil
}

// RecordInboxMessage commits a message and its conversation's change in
// one transaction.
func (s *Store) RecordInboxMessage(ctx context.Context, c *parley.Conversation, m *parley.InboxMessage) (*parley.InboxRecord, error) {
	var rec *parley.InboxRecord
	err := s.writeTx(ctx, "RecordInboxMessage", func(tx *sql.Tx) error {
		var err error
		rec, err = s.recordInboxTx(txStmts{ctx: ctx, tx: tx, s: s}, c, m)
		return err
	})
	if err != nil {
		return nil, err
	}
	m.Conversation, m.Business = c.ID, c.Business
	return rec, nil
}

func (s *Store) recordInboxTx(t txStmts, c *parley.Conversation, m *parley.InboxMessage) (*parley.InboxRecord, error) {
	rec := &parley.InboxRecord{}
	at := micros(m.CreatedAt)
	res, err := t.exec(qInsertInboxMessage, m.ID, c.ID, c.Business, m.Direction, m.Type, m.Sealed, m.ContextID,
		m.Status, m.ErrorCode, m.Agent, at, micros(m.UpdatedAt))
	if err != nil {
		return nil, err
	}
	if rec.NewMessage, err = rowsAffected(res); err != nil {
		return nil, err
	}
	if !rec.NewMessage && m.Agent != "" {
		// Recorded first from its status (the device was quicker than
		// the sender): keep who sent it.
		if _, err := t.exec(qInboxMessageAgent, m.Agent, m.ID); err != nil {
			return nil, err
		}
	}
	// The conversation as it is now: created or updated in one statement
	// for a new message in or out, else read (after creating it).
	var row *sql.Row
	upsert := rec.NewMessage && (m.Direction == parley.DirectionIn || m.Direction == parley.DirectionOut)
	switch {
	case upsert && m.Direction == parley.DirectionIn:
		row = t.queryRow(qUpsertConversationInbound, "", c.ID, c.Business, c.Number, c.Customer, blob(c.LastSealed), at, at, at)
	case upsert:
		row = t.queryRow(qUpsertConversationOutbound, "", c.ID, c.Business, c.Number, c.Customer, blob(c.LastSealed), at, at)
	default:
		res, err := t.exec(qInsertConversation, c.ID, c.Business, c.Number, c.Customer, blob(c.LastSealed), at, at)
		if err != nil {
			return nil, err
		}
		if rec.NewConversation, err = rowsAffected(res); err != nil {
			return nil, err
		}
		if rec.NewMessage {
			row = t.queryRow(qConversationBump, "", c.ID)
		} else {
			row = t.queryRow(qConversation, "", c.ID)
		}
	}
	if rec.Conversation, err = scanConversation(row); err != nil {
		return nil, err
	}
	if upsert {
		rec.NewConversation = rec.Conversation.Version == 1
	}
	return rec, nil
}

// SetInboxStatus moves an outbound message's status forward.
func (s *Store) SetInboxStatus(ctx context.Context, id, status string, code int, at time.Time) (*parley.InboxMessage, bool, error) {
	var m *parley.InboxMessage
	changed := false
	err := s.writeTx(ctx, "SetInboxStatus", func(tx *sql.Tx) error {
		var err error
		m, changed, err = s.setInboxStatusTx(txStmts{ctx: ctx, tx: tx, s: s}, id, status, code, at)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	return m, changed, nil
}

func (s *Store) setInboxStatusTx(t txStmts, id, status string, code int, at time.Time) (*parley.InboxMessage, bool, error) {
	m, err := scanInboxMessage(t.queryRow(qInboxMessage, s.d.LockRows, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, s.notFound("SetInboxStatus", "no inbox message %s", id)
	}
	if err != nil {
		return nil, false, err
	}
	if m.Direction != parley.DirectionOut || parley.OutboundRank(status) <= parley.OutboundRank(m.Status) {
		return m, false, nil
	}
	if _, err := t.exec(qSetInboxStatus, status, code, micros(at), id); err != nil {
		return nil, false, err
	}
	m.Status, m.ErrorCode, m.UpdatedAt = status, code, at.UTC().Truncate(time.Microsecond)
	return m, true, nil
}

// RecordInboxStatuses records outbound messages and moves them to their
// statuses in one transaction, each query prepared once for the batch. A
// new message is inserted with its status at once (what recording it
// accepted and then moving it leaves); one recorded before is moved.
func (s *Store) RecordInboxStatuses(ctx context.Context, cs []parley.Conversation, ms []parley.InboxMessage) ([]parley.InboxRecord, []*parley.InboxMessage, error) {
	if len(cs) != len(ms) {
		return nil, nil, &parley.Error{Code: parley.EINVALID, Op: s.op("RecordInboxStatuses"), Message: "one conversation per message"}
	}
	var recs []parley.InboxRecord
	var moved []*parley.InboxMessage
	err := s.writeTx(ctx, "RecordInboxStatuses", func(tx *sql.Tx) error {
		t := txStmts{ctx: ctx, tx: tx, s: s, prepared: map[query]*sql.Stmt{}}
		defer t.close()
		recs, moved = make([]parley.InboxRecord, len(ms)), make([]*parley.InboxMessage, len(ms))
		for i := range ms {
			m := ms[i]
			forward := parley.OutboundRank(m.Status) > parley.OutboundRank(parley.OutboundAccepted)
			if forward {
				m.UpdatedAt = m.UpdatedAt.UTC().Truncate(time.Microsecond)
			} else {
				m.Status, m.ErrorCode, m.UpdatedAt = parley.OutboundAccepted, 0, m.CreatedAt
			}
			rec, err := s.recordInboxTx(t, &cs[i], &m)
			if err != nil {
				return err
			}
			recs[i] = *rec
			if rec.NewMessage {
				if forward {
					m.Conversation, m.Business = cs[i].ID, cs[i].Business
					moved[i] = &m
				}
				continue
			}
			after, changed, err := s.setInboxStatusTx(t, m.ID, ms[i].Status, ms[i].ErrorCode, ms[i].UpdatedAt)
			if err != nil {
				return err
			}
			if changed {
				moved[i] = after
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	for i := range ms {
		ms[i].Conversation, ms[i].Business = cs[i].ID, cs[i].Business
	}
	return recs, moved, nil
}

// Conversation returns a conversation by id.
func (s *Store) Conversation(ctx context.Context, id string) (*parley.Conversation, error) {
	c, err := scanConversation(s.r.QueryRowContext(ctx, s.sql(qConversation), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Conversation", "no such conversation")
	}
	if err != nil {
		return nil, s.wrap("Conversation", err)
	}
	return c, nil
}

// Conversations lists the conversations f selects, newest first.
func (s *Store) Conversations(ctx context.Context, f parley.ConversationFilter) ([]parley.Conversation, error) {
	limit := f.Limit
	if limit <= 0 || limit > 500 {
		limit = 50
	}
	assignee := f.Assignee
	if assignee == "none" {
		assignee = ""
	}
	label := ""
	if f.Label != "" {
		label = "%," + f.Label + ",%"
	}
	unread := 0
	if f.Unread {
		unread = 1
	}
	customer := ""
	if f.Customer != "" {
		customer = f.Customer + "%"
	}
	rows, err := s.r.QueryContext(ctx, s.sql(qConversations), f.Business, f.State, f.State, f.Assignee, assignee, label, label,
		unread, customer, customer, micros(f.Before), micros(f.Before), limit)
	if err != nil {
		return nil, s.wrap("Conversations", err)
	}
	defer rows.Close()
	var out []parley.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, s.wrap("Conversations", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("Conversations", err)
	}
	return out, nil
}

// CustomerConversations returns a customer's conversations with every business.
func (s *Store) CustomerConversations(ctx context.Context, customer string) ([]parley.Conversation, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qCustomerConversations), customer)
	if err != nil {
		return nil, s.wrap("CustomerConversations", err)
	}
	defer rows.Close()
	var out []parley.Conversation
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return nil, s.wrap("CustomerConversations", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("CustomerConversations", err)
	}
	return out, nil
}

// UpdateConversation stores the mutable fields if the version matches.
func (s *Store) UpdateConversation(ctx context.Context, c *parley.Conversation) error {
	var v int64
	err := s.w.QueryRowContext(ctx, s.sql(qUpdateConversation), c.State, c.Assignee, labelsText(c.Labels), c.Unread, micros(c.AwaySentAt),
		c.ID, c.Version).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		if _, gerr := s.Conversation(ctx, c.ID); gerr != nil {
			return gerr
		}
		e := parley.Errorf(parley.ECONFLICT, "the conversation was changed by someone else; reload it and try again")
		e.Op = s.op("UpdateConversation")
		return e
	}
	if err != nil {
		return s.wrap("UpdateConversation", err)
	}
	c.Version = v
	return nil
}

func (s *Store) inboxMessages(ctx context.Context, name string, q query, args ...any) ([]parley.InboxMessage, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(q), args...)
	if err != nil {
		return nil, s.wrap(name, err)
	}
	defer rows.Close()
	var out []parley.InboxMessage
	for rows.Next() {
		m, err := scanInboxMessage(rows)
		if err != nil {
			return nil, s.wrap(name, err)
		}
		out = append(out, *m)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(name, err)
	}
	return out, nil
}

// InboxMessages returns a conversation's messages, newest first.
func (s *Store) InboxMessages(ctx context.Context, conversation string, before time.Time, limit int) ([]parley.InboxMessage, error) {
	return s.inboxMessages(ctx, "InboxMessages", qInboxMessages, conversation, micros(before), micros(before), limit)
}

// RecentInboxMessages returns a business's latest messages.
func (s *Store) RecentInboxMessages(ctx context.Context, business string, limit int) ([]parley.InboxMessage, error) {
	return s.inboxMessages(ctx, "RecentInboxMessages", qRecentInboxMessages, business, limit)
}
