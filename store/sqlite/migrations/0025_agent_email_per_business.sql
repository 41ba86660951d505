-- An agent's email is unique within a business, not across the server:
-- one person may be an agent of several businesses (an agency answering
-- for its clients), and adding an agent no longer tells a business that
-- an email is in use at another one. Sign-in asks which business when
-- the password fits more than one (docs/inbox.md). SQLite cannot drop a
-- column's UNIQUE constraint, so the table is rebuilt.
CREATE TABLE inbox_agents_new (
	id               TEXT PRIMARY KEY,
	business         TEXT NOT NULL,
	email            TEXT NOT NULL,
	name             TEXT NOT NULL,
	role             TEXT NOT NULL,
	password_hash    TEXT NOT NULL,
	totp_sealed      BLOB,
	totp_last_step   INTEGER NOT NULL DEFAULT 0,
	failures         INTEGER NOT NULL DEFAULT 0,
	locked_until     INTEGER NOT NULL DEFAULT 0,
	last_seen_at     INTEGER NOT NULL DEFAULT 0,
	last_assigned_at INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL,
	UNIQUE (business, email)
);
INSERT INTO inbox_agents_new SELECT id, business, email, name, role, password_hash, totp_sealed, totp_last_step, failures,
	locked_until, last_seen_at, last_assigned_at, created_at FROM inbox_agents;
DROP TABLE inbox_agents;
ALTER TABLE inbox_agents_new RENAME TO inbox_agents;
CREATE INDEX inbox_agents_email ON inbox_agents (email);
