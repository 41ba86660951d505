-- Website chat (docs/inbox.md, "Website chat"): visitors of a business's
-- website (a random id; the SHA-256 of their bearer token), the number a
-- visitor gave to move to the messenger with the SHA-256 of its one-time
-- reference, and the website origins each business allows.
CREATE TABLE webchat_visitors (
	id               TEXT PRIMARY KEY,
	business         TEXT NOT NULL,
	number           TEXT NOT NULL,
	hash             BYTEA NOT NULL UNIQUE,
	origin           TEXT NOT NULL,
	created_at       BIGINT NOT NULL,
	last_seen_at     BIGINT NOT NULL,
	handoff_phone    TEXT NOT NULL DEFAULT '',
	handoff_ref_hash BYTEA,
	handoff_expires  BIGINT NOT NULL DEFAULT 0,
	moved_to         TEXT NOT NULL DEFAULT '',
	moved_at         BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX webchat_visitors_ref ON webchat_visitors (handoff_ref_hash);
CREATE INDEX webchat_visitors_business ON webchat_visitors (business);

CREATE TABLE webchat_origins (
	business TEXT NOT NULL,
	origin   TEXT NOT NULL,
	PRIMARY KEY (business, origin)
);

-- A web conversation names the messenger conversation it moved to, and
-- the messenger conversation the web conversation it continues.
ALTER TABLE inbox_conversations ADD COLUMN linked TEXT NOT NULL DEFAULT '';
