-- The business inbox (docs/inbox.md): conversations of a business number
-- with its customers, their messages (contents sealed with the at-rest
-- key: the database never holds them in clear), agents, sessions, the
-- append-only audit log, labels, quick replies and standard messages.
CREATE TABLE inbox_conversations (
	id              TEXT PRIMARY KEY,
	business        TEXT NOT NULL,
	number          TEXT NOT NULL,
	customer        TEXT NOT NULL,
	state           TEXT NOT NULL,
	assignee        TEXT NOT NULL DEFAULT '',
	labels          TEXT NOT NULL DEFAULT '', -- ",a,b," (label names hold no commas)
	unread          BIGINT NOT NULL DEFAULT 0,
	last_sealed     BYTEA,
	last_at         BIGINT NOT NULL,
	last_inbound_at BIGINT NOT NULL DEFAULT 0,
	away_sent_at    BIGINT NOT NULL DEFAULT 0,
	version         BIGINT NOT NULL,
	created_at      BIGINT NOT NULL,
	UNIQUE (number, customer)
);
CREATE INDEX inbox_conversations_business ON inbox_conversations (business, last_at);

CREATE TABLE inbox_messages (
	id           TEXT PRIMARY KEY,
	conversation TEXT NOT NULL,
	business     TEXT NOT NULL,
	direction    TEXT NOT NULL,
	type         TEXT NOT NULL,
	sealed       BYTEA NOT NULL,
	context_id   TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL DEFAULT '',
	error_code   BIGINT NOT NULL DEFAULT 0,
	agent        TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	updated_at   BIGINT NOT NULL
);
CREATE INDEX inbox_messages_conversation ON inbox_messages (conversation, created_at);
CREATE INDEX inbox_messages_business ON inbox_messages (business, created_at);

CREATE TABLE inbox_agents (
	id               TEXT PRIMARY KEY,
	business         TEXT NOT NULL,
	email            TEXT NOT NULL UNIQUE,
	name             TEXT NOT NULL,
	role             TEXT NOT NULL,
	password_hash    TEXT NOT NULL,
	totp_sealed      BYTEA,
	totp_last_step   BIGINT NOT NULL DEFAULT 0,
	failures         BIGINT NOT NULL DEFAULT 0,
	locked_until     BIGINT NOT NULL DEFAULT 0,
	last_seen_at     BIGINT NOT NULL DEFAULT 0,
	last_assigned_at BIGINT NOT NULL DEFAULT 0,
	created_at       BIGINT NOT NULL
);
CREATE INDEX inbox_agents_business ON inbox_agents (business);

CREATE TABLE inbox_sessions (
	id           TEXT PRIMARY KEY,
	hash         BYTEA NOT NULL UNIQUE,
	csrf_hash    BYTEA NOT NULL,
	agent        TEXT NOT NULL,
	business     TEXT NOT NULL,
	user_agent   TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	revoked_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX inbox_sessions_agent ON inbox_sessions (agent);

CREATE TABLE inbox_audit (
	seq      BIGSERIAL PRIMARY KEY,
	business TEXT NOT NULL,
	agent    TEXT NOT NULL,
	action   TEXT NOT NULL,
	target   TEXT NOT NULL,
	detail   TEXT NOT NULL,
	at       BIGINT NOT NULL
);
CREATE INDEX inbox_audit_business ON inbox_audit (business, seq);
-- Append-only: the database refuses to change or remove entries.
CREATE FUNCTION inbox_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'inbox_audit is append-only';
END $$;
CREATE TRIGGER inbox_audit_no_change BEFORE UPDATE OR DELETE ON inbox_audit
	FOR EACH ROW EXECUTE FUNCTION inbox_audit_append_only();

CREATE TABLE inbox_labels (
	business TEXT NOT NULL,
	name     TEXT NOT NULL,
	color    TEXT NOT NULL,
	PRIMARY KEY (business, name)
);

CREATE TABLE inbox_quick_replies (
	business   TEXT NOT NULL,
	shortcut   TEXT NOT NULL,
	text       TEXT NOT NULL,
	updated_at BIGINT NOT NULL,
	PRIMARY KEY (business, shortcut)
);

CREATE TABLE inbox_settings (
	business         TEXT PRIMARY KEY,
	greeting_enabled BIGINT NOT NULL,
	greeting         TEXT NOT NULL,
	away_enabled     BIGINT NOT NULL,
	away             TEXT NOT NULL,
	version          BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL
);
