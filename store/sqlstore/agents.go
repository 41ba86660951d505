package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

const agentColumns = `id, business, email, name, role, password_hash, totp_sealed, totp_last_step, failures, locked_until, last_seen_at,
	last_assigned_at, created_at`

const sessionColumns = `id, hash, csrf_hash, agent, business, user_agent, created_at, last_seen_at, expires_at, revoked_at`

var (
	qInsertAgent = newQuery(`INSERT INTO inbox_agents (` + agentColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT DO NOTHING`)
	qAgent           = newQuery(`SELECT ` + agentColumns + ` FROM inbox_agents WHERE id = ?`)
	qAgentsByEmail   = newQuery(`SELECT ` + agentColumns + ` FROM inbox_agents WHERE email = ? ORDER BY created_at, id LIMIT ?`)
	qAgents          = newQuery(`SELECT ` + agentColumns + ` FROM inbox_agents WHERE business = ? ORDER BY email`)
	qUpdateAgent     = newQuery(`UPDATE inbox_agents SET name = ?, password_hash = ?, totp_sealed = ?, totp_last_step = ? WHERE id = ?`)
	qOwnersAnd       = newQuery(`SELECT id, role FROM inbox_agents WHERE business = ? AND (role = 'owner' OR id = ?) ORDER BY id`)
	qSetAgentRole    = newQuery(`UPDATE inbox_agents SET role = ? WHERE id = ?`)
	qDeleteAgent     = newQuery(`DELETE FROM inbox_agents WHERE id = ?`)
	qDeleteAgentSess = newQuery(`DELETE FROM inbox_sessions WHERE agent = ?`)
	qAgentFailed     = newQuery(`UPDATE inbox_agents SET failures = failures + 1 WHERE id = ? RETURNING failures`)
	qAgentLock       = newQuery(`UPDATE inbox_agents SET failures = 0, locked_until = ? WHERE id = ?`)
	qAgentSucceeded  = newQuery(`UPDATE inbox_agents SET failures = 0 WHERE id = ?`)
	qTouchAgent      = newQuery(`UPDATE inbox_agents SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?`)
	qNextAgent       = newQuery(`SELECT id FROM inbox_agents WHERE business = ? AND last_seen_at >= ? ORDER BY last_assigned_at, id LIMIT 1`)
	qAgentAssigned   = newQuery(`UPDATE inbox_agents SET last_assigned_at = ? WHERE id = ?`)
	// Round-robin picks serialize per business on a row of the lock table
	// that messaging limits use, under a key of their own ("assign|…").
	qLockAssign        = newQuery(`INSERT INTO business_reach_lock (business, n) VALUES (?, 1) ON CONFLICT (business) DO UPDATE SET n = business_reach_lock.n + 1`)
	qInsertSession     = newQuery(`INSERT INTO inbox_sessions (` + sessionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qSessionByHash     = newQuery(`SELECT ` + sessionColumns + ` FROM inbox_sessions WHERE hash = ?`)
	qSessions          = newQuery(`SELECT ` + sessionColumns + ` FROM inbox_sessions WHERE agent = ? AND revoked_at = 0 AND expires_at > ? ORDER BY created_at DESC, id`)
	qTouchSession      = newQuery(`UPDATE inbox_sessions SET last_seen_at = ?, expires_at = ? WHERE id = ? AND revoked_at = 0`)
	qRevokeSession     = newQuery(`UPDATE inbox_sessions SET revoked_at = ? WHERE agent = ? AND id = ? AND revoked_at = 0`)
	qRevokeAllSessions = newQuery(`UPDATE inbox_sessions SET revoked_at = ? WHERE agent = ? AND revoked_at = 0`)
	qAppendAudit       = newQuery(`INSERT INTO inbox_audit (business, agent, action, target, detail, at) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq`)
	qAudit             = newQuery(`SELECT seq, business, agent, action, target, detail, at FROM inbox_audit WHERE business = ? AND (CAST(? AS BIGINT) = 0 OR seq < ?)
		ORDER BY seq DESC LIMIT ?`)
	qPutLabel = newQuery(`INSERT INTO inbox_labels (business, name, color) VALUES (?, ?, ?)
		ON CONFLICT (business, name) DO UPDATE SET color = excluded.color`)
	qLabels          = newQuery(`SELECT business, name, color FROM inbox_labels WHERE business = ? ORDER BY name`)
	qDeleteLabel     = newQuery(`DELETE FROM inbox_labels WHERE business = ? AND name = ?`)
	qUnlabel         = newQuery(`UPDATE inbox_conversations SET labels = REPLACE(labels, ?, ','), version = version + 1 WHERE business = ? AND labels LIKE ?`)
	qCountQuickReply = newQuery(`SELECT COUNT(*) FROM inbox_quick_replies WHERE business = ? AND shortcut <> ?`)
	qPutQuickReply   = newQuery(`INSERT INTO inbox_quick_replies (business, shortcut, text, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (business, shortcut) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at`)
	qQuickReplies     = newQuery(`SELECT business, shortcut, text, updated_at FROM inbox_quick_replies WHERE business = ? ORDER BY shortcut`)
	qDeleteQuickReply = newQuery(`DELETE FROM inbox_quick_replies WHERE business = ? AND shortcut = ?`)
	qInboxSettings    = newQuery(`SELECT business, greeting_enabled, greeting, away_enabled, away, retention_days, version, updated_at
		FROM inbox_settings WHERE business = ?`)
	qInsertSettings = newQuery(`INSERT INTO inbox_settings (business, greeting_enabled, greeting, away_enabled, away, retention_days, version, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?) ON CONFLICT DO NOTHING`)
	qUpdateSettings = newQuery(`UPDATE inbox_settings SET greeting_enabled = ?, greeting = ?, away_enabled = ?, away = ?, retention_days = ?,
		version = version + 1, updated_at = ? WHERE business = ? AND version = ? RETURNING version`)
)

func scanAgent(r scanner) (*parley.Agent, error) {
	var a parley.Agent
	var locked, seen, assigned, created int64
	if err := r.Scan(&a.ID, &a.Business, &a.Email, &a.Name, &a.Role, &a.PasswordHash, &a.TOTPSealed, &a.TOTPLastStep, &a.Failures,
		&locked, &seen, &assigned, &created); err != nil {
		return nil, err
	}
	a.TOTPSealed = blob(a.TOTPSealed)
	a.LockedUntil, a.LastSeenAt, a.LastAssignedAt, a.CreatedAt = fromMicros(locked), fromMicros(seen), fromMicros(assigned), fromMicros(created)
	return &a, nil
}

// CreateAgent stores a new agent; ECONFLICT when the business has an
// agent with the email.
func (s *Store) CreateAgent(ctx context.Context, a *parley.Agent) error {
	res, err := s.w.ExecContext(ctx, s.sql(qInsertAgent), a.ID, a.Business, a.Email, a.Name, a.Role, a.PasswordHash, blob(a.TOTPSealed),
		a.TOTPLastStep, a.Failures, micros(a.LockedUntil), micros(a.LastSeenAt), micros(a.LastAssignedAt), micros(a.CreatedAt))
	if err != nil {
		return s.wrap("CreateAgent", err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap("CreateAgent", err)
	} else if !ok {
		e := parley.Errorf(parley.ECONFLICT, "the business has an agent with the email %s", a.Email)
		e.Op = s.op("CreateAgent")
		return e
	}
	return nil
}

func (s *Store) agent(ctx context.Context, name string, q query, arg string) (*parley.Agent, error) {
	a, err := scanAgent(s.r.QueryRowContext(ctx, s.sql(q), arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound(name, "no such agent")
	}
	if err != nil {
		return nil, s.wrap(name, err)
	}
	return a, nil
}

// Agent returns an agent by id.
func (s *Store) Agent(ctx context.Context, id string) (*parley.Agent, error) {
	return s.agent(ctx, "Agent", qAgent, id)
}

// AgentsByEmail returns the agents with an email, one per business at
// most, oldest first, up to limit.
func (s *Store) AgentsByEmail(ctx context.Context, email string, limit int) ([]parley.Agent, error) {
	return s.agents(ctx, "AgentsByEmail", qAgentsByEmail, email, limit)
}

// Agents lists a business's agents.
func (s *Store) Agents(ctx context.Context, business string) ([]parley.Agent, error) {
	return s.agents(ctx, "Agents", qAgents, business)
}

func (s *Store) agents(ctx context.Context, name string, q query, args ...any) ([]parley.Agent, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(q), args...)
	if err != nil {
		return nil, s.wrap(name, err)
	}
	defer rows.Close()
	var out []parley.Agent
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, s.wrap(name, err)
		}
		out = append(out, *a)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(name, err)
	}
	return out, nil
}

func (s *Store) execOne(ctx context.Context, name string, q query, args ...any) error {
	res, err := s.w.ExecContext(ctx, s.sql(q), args...)
	if err != nil {
		return s.wrap(name, err)
	}
	if ok, err := rowsAffected(res); err != nil {
		return s.wrap(name, err)
	} else if !ok {
		return s.notFound(name, "not found")
	}
	return nil
}

// UpdateAgent stores the agent's mutable fields.
func (s *Store) UpdateAgent(ctx context.Context, a *parley.Agent) error {
	return s.execOne(ctx, "UpdateAgent", qUpdateAgent, a.Name, a.PasswordHash, blob(a.TOTPSealed), a.TOTPLastStep, a.ID)
}

// lockOwners reads, in tx, the roles of the business's owners and of
// agent id, locking those rows on PostgreSQL (SQLite: the write
// transaction holds the write lock), so that changes of owners
// serialize and each sees the one before. found is false when the
// business has no agent id.
func (s *Store) lockOwners(ctx context.Context, tx *sql.Tx, business, id string) (owners int, role string, found bool, err error) {
	rows, err := tx.QueryContext(ctx, s.sql(qOwnersAnd)+s.d.LockRows, business, id)
	if err != nil {
		return 0, "", false, err
	}
	defer rows.Close()
	for rows.Next() {
		var aid, r string
		if err := rows.Scan(&aid, &r); err != nil {
			return 0, "", false, err
		}
		if r == parley.AgentOwner {
			owners++
		}
		if aid == id {
			found, role = true, r
		}
	}
	return owners, role, found, rows.Err()
}

func (s *Store) lastOwner(name string) error {
	e := parley.Errorf(parley.ECONFLICT, "the last owner cannot be demoted or removed; make someone else owner first")
	e.Op = s.op(name)
	return e
}

// SetAgentRole changes an agent's role unless that leaves its business
// without an owner.
func (s *Store) SetAgentRole(ctx context.Context, business, id, role string) (string, error) {
	var old string
	err := s.writeTx(ctx, "SetAgentRole", func(tx *sql.Tx) error {
		owners, r, found, err := s.lockOwners(ctx, tx, business, id)
		if err != nil {
			return err
		}
		if !found {
			return s.notFound("SetAgentRole", "no such agent")
		}
		old = r
		if old == parley.AgentOwner && role != parley.AgentOwner && owners <= 1 {
			return s.lastOwner("SetAgentRole")
		}
		_, err = tx.ExecContext(ctx, s.sql(qSetAgentRole), role, id)
		return err
	})
	return old, err
}

// RemoveTeamAgent deletes an agent and its sessions unless it is its
// business's last owner.
func (s *Store) RemoveTeamAgent(ctx context.Context, business, id string) error {
	return s.writeTx(ctx, "RemoveTeamAgent", func(tx *sql.Tx) error {
		owners, r, found, err := s.lockOwners(ctx, tx, business, id)
		if err != nil {
			return err
		}
		if !found {
			return s.notFound("RemoveTeamAgent", "no such agent")
		}
		if r == parley.AgentOwner && owners <= 1 {
			return s.lastOwner("RemoveTeamAgent")
		}
		if _, err := tx.ExecContext(ctx, s.sql(qDeleteAgentSess), id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sql(qDeleteAgent), id)
		return err
	})
}

// DeleteAgent deletes an agent and its sessions.
func (s *Store) DeleteAgent(ctx context.Context, id string) error {
	return s.writeTx(ctx, "DeleteAgent", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(qDeleteAgentSess), id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, s.sql(qDeleteAgent), id)
		if err != nil {
			return err
		}
		if ok, err := rowsAffected(res); err != nil {
			return err
		} else if !ok {
			return s.notFound("DeleteAgent", "no such agent")
		}
		return nil
	})
}

// AgentLoginFailed counts a failure and locks at max.
func (s *Store) AgentLoginFailed(ctx context.Context, id string, max int, lockUntil time.Time) (bool, error) {
	locked := false
	err := s.writeTx(ctx, "AgentLoginFailed", func(tx *sql.Tx) error {
		var n int
		err := tx.QueryRowContext(ctx, s.sql(qAgentFailed), id).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound("AgentLoginFailed", "no such agent")
		}
		if err != nil || n < max {
			return err
		}
		locked = true
		_, err = tx.ExecContext(ctx, s.sql(qAgentLock), micros(lockUntil), id)
		return err
	})
	return locked, err
}

// AgentLoginSucceeded clears the failure count.
func (s *Store) AgentLoginSucceeded(ctx context.Context, id string) error {
	return s.execOne(ctx, "AgentLoginSucceeded", qAgentSucceeded, id)
}

// TouchAgent records that the agent is online.
func (s *Store) TouchAgent(ctx context.Context, id string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qTouchAgent), micros(at), id, micros(at)); err != nil {
		return s.wrap("TouchAgent", err)
	}
	return nil
}

// NextAgent picks the online agent assigned longest ago, serialized per
// business by the business's lock row.
func (s *Store) NextAgent(ctx context.Context, business string, onlineSince, at time.Time) (*parley.Agent, error) {
	var id string
	err := s.writeTx(ctx, "NextAgent", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.sql(qLockAssign), "assign|"+business); err != nil {
			return err
		}
		err := tx.QueryRowContext(ctx, s.sql(qNextAgent), business, micros(onlineSince)).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return s.notFound("NextAgent", "no agent of the business is online")
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.sql(qAgentAssigned), micros(at), id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Agent(ctx, id)
}

func scanSession(r scanner) (*parley.AgentSession, error) {
	var x parley.AgentSession
	var created, seen, expires, revoked int64
	if err := r.Scan(&x.ID, &x.Hash, &x.CSRFHash, &x.Agent, &x.Business, &x.UserAgent, &created, &seen, &expires, &revoked); err != nil {
		return nil, err
	}
	x.CreatedAt, x.LastSeenAt, x.ExpiresAt, x.RevokedAt = fromMicros(created), fromMicros(seen), fromMicros(expires), fromMicros(revoked)
	return &x, nil
}

// CreateAgentSession stores a session.
func (s *Store) CreateAgentSession(ctx context.Context, x *parley.AgentSession) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qInsertSession), x.ID, x.Hash, x.CSRFHash, x.Agent, x.Business, x.UserAgent,
		micros(x.CreatedAt), micros(x.LastSeenAt), micros(x.ExpiresAt), micros(x.RevokedAt)); err != nil {
		return s.wrap("CreateAgentSession", err)
	}
	return nil
}

// AgentSession returns the session of a token hash.
func (s *Store) AgentSession(ctx context.Context, hash []byte) (*parley.AgentSession, error) {
	x, err := scanSession(s.r.QueryRowContext(ctx, s.sql(qSessionByHash), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("AgentSession", "no such session")
	}
	if err != nil {
		return nil, s.wrap("AgentSession", err)
	}
	return x, nil
}

// AgentSessions lists an agent's live sessions.
func (s *Store) AgentSessions(ctx context.Context, agent string, now time.Time) ([]parley.AgentSession, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qSessions), agent, micros(now))
	if err != nil {
		return nil, s.wrap("AgentSessions", err)
	}
	defer rows.Close()
	var out []parley.AgentSession
	for rows.Next() {
		x, err := scanSession(rows)
		if err != nil {
			return nil, s.wrap("AgentSessions", err)
		}
		out = append(out, *x)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("AgentSessions", err)
	}
	return out, nil
}

// TouchAgentSession records use of a session and extends it.
func (s *Store) TouchAgentSession(ctx context.Context, id string, seen, expires time.Time) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qTouchSession), micros(seen), micros(expires), id); err != nil {
		return s.wrap("TouchAgentSession", err)
	}
	return nil
}

// RevokeAgentSession revokes one or all of an agent's sessions.
func (s *Store) RevokeAgentSession(ctx context.Context, agent, id string, at time.Time) error {
	if id == "" {
		if _, err := s.w.ExecContext(ctx, s.sql(qRevokeAllSessions), micros(at), agent); err != nil {
			return s.wrap("RevokeAgentSession", err)
		}
		return nil
	}
	return s.execOne(ctx, "RevokeAgentSession", qRevokeSession, micros(at), agent, id)
}

// AppendAudit appends an audit entry.
func (s *Store) AppendAudit(ctx context.Context, e *parley.AuditEntry) error {
	if err := s.w.QueryRowContext(ctx, s.sql(qAppendAudit), e.Business, e.Agent, e.Action, e.Target, e.Detail, micros(e.At)).Scan(&e.Seq); err != nil {
		return s.wrap("AppendAudit", err)
	}
	return nil
}

// Audit lists a business's audit entries, newest first.
func (s *Store) Audit(ctx context.Context, business string, before int64, limit int) ([]parley.AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qAudit), business, before, before, limit)
	if err != nil {
		return nil, s.wrap("Audit", err)
	}
	defer rows.Close()
	var out []parley.AuditEntry
	for rows.Next() {
		var e parley.AuditEntry
		var at int64
		if err := rows.Scan(&e.Seq, &e.Business, &e.Agent, &e.Action, &e.Target, &e.Detail, &at); err != nil {
			return nil, s.wrap("Audit", err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("Audit", err)
	}
	return out, nil
}

// PutLabel inserts or recolours a label.
func (s *Store) PutLabel(ctx context.Context, l *parley.Label) error {
	if _, err := s.w.ExecContext(ctx, s.sql(qPutLabel), l.Business, l.Name, l.Color); err != nil {
		return s.wrap("PutLabel", err)
	}
	return nil
}

// Labels lists a business's labels by name.
func (s *Store) Labels(ctx context.Context, business string) ([]parley.Label, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qLabels), business)
	if err != nil {
		return nil, s.wrap("Labels", err)
	}
	defer rows.Close()
	var out []parley.Label
	for rows.Next() {
		var l parley.Label
		if err := rows.Scan(&l.Business, &l.Name, &l.Color); err != nil {
			return nil, s.wrap("Labels", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("Labels", err)
	}
	return out, nil
}

// DeleteLabel deletes a label and takes it off every conversation.
func (s *Store) DeleteLabel(ctx context.Context, business, name string) error {
	return s.writeTx(ctx, "DeleteLabel", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.sql(qDeleteLabel), business, name)
		if err != nil {
			return err
		}
		if ok, err := rowsAffected(res); err != nil {
			return err
		} else if !ok {
			return s.notFound("DeleteLabel", "no label %q", name)
		}
		_, err = tx.ExecContext(ctx, s.sql(qUnlabel), ","+name+",", business, "%,"+name+",%")
		return err
	})
}

// PutQuickReply inserts or replaces a quick reply, within the limit.
func (s *Store) PutQuickReply(ctx context.Context, q *parley.QuickReply) error {
	return s.writeTx(ctx, "PutQuickReply", func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, s.sql(qCountQuickReply), q.Business, q.Shortcut).Scan(&n); err != nil {
			return err
		}
		if n >= parley.MaxQuickReplies {
			return parley.Errorf(parley.ETOOLARGE, "a business may keep at most %d quick replies", parley.MaxQuickReplies)
		}
		_, err := tx.ExecContext(ctx, s.sql(qPutQuickReply), q.Business, q.Shortcut, q.Text, micros(q.UpdatedAt))
		return err
	})
}

// QuickReplies lists a business's quick replies by shortcut.
func (s *Store) QuickReplies(ctx context.Context, business string) ([]parley.QuickReply, error) {
	rows, err := s.r.QueryContext(ctx, s.sql(qQuickReplies), business)
	if err != nil {
		return nil, s.wrap("QuickReplies", err)
	}
	defer rows.Close()
	var out []parley.QuickReply
	for rows.Next() {
		var q parley.QuickReply
		var at int64
		if err := rows.Scan(&q.Business, &q.Shortcut, &q.Text, &at); err != nil {
			return nil, s.wrap("QuickReplies", err)
		}
		q.UpdatedAt = fromMicros(at)
		out = append(out, q)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("QuickReplies", err)
	}
	return out, nil
}

// DeleteQuickReply deletes a quick reply.
func (s *Store) DeleteQuickReply(ctx context.Context, business, shortcut string) error {
	return s.execOne(ctx, "DeleteQuickReply", qDeleteQuickReply, business, shortcut)
}

// InboxSettings returns a business's settings (empty when never set).
func (s *Store) InboxSettings(ctx context.Context, business string) (*parley.InboxSettings, error) {
	x := parley.InboxSettings{Business: business}
	var g, a int
	var at int64
	err := s.r.QueryRowContext(ctx, s.sql(qInboxSettings), business).Scan(&x.Business, &g, &x.Greeting, &a, &x.Away, &x.RetentionDays, &x.Version, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return &x, nil
	}
	if err != nil {
		return nil, s.wrap("InboxSettings", err)
	}
	x.GreetingEnabled, x.AwayEnabled, x.UpdatedAt = g != 0, a != 0, fromMicros(at)
	return &x, nil
}

// PutInboxSettings stores the settings if the version matches.
func (s *Store) PutInboxSettings(ctx context.Context, x *parley.InboxSettings) error {
	g, a := 0, 0
	if x.GreetingEnabled {
		g = 1
	}
	if x.AwayEnabled {
		a = 1
	}
	conflict := func() error {
		e := parley.Errorf(parley.ECONFLICT, "the settings were changed by someone else; reload them and try again")
		e.Op = s.op("PutInboxSettings")
		return e
	}
	if x.Version == 0 {
		res, err := s.w.ExecContext(ctx, s.sql(qInsertSettings), x.Business, g, x.Greeting, a, x.Away, x.RetentionDays, micros(x.UpdatedAt))
		if err != nil {
			return s.wrap("PutInboxSettings", err)
		}
		if ok, err := rowsAffected(res); err != nil {
			return s.wrap("PutInboxSettings", err)
		} else if !ok {
			return conflict()
		}
		x.Version = 1
		return nil
	}
	var v int64
	err := s.w.QueryRowContext(ctx, s.sql(qUpdateSettings), g, x.Greeting, a, x.Away, x.RetentionDays, micros(x.UpdatedAt), x.Business, x.Version).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return conflict()
	}
	if err != nil {
		return s.wrap("PutInboxSettings", err)
	}
	x.Version = v
	return nil
}
