-- Times are microseconds since the Unix epoch; 0 means "never".

CREATE TABLE accounts (
	id          TEXT PRIMARY KEY,
	name        TEXT NOT NULL DEFAULT '',
	presence    TEXT NOT NULL,
	created_at  INTEGER NOT NULL,
	next_device INTEGER NOT NULL DEFAULT 1 -- device ids are never reused
);

CREATE TABLE devices (
	account      TEXT NOT NULL REFERENCES accounts (id),
	id           INTEGER NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	platform     TEXT NOT NULL DEFAULT '',
	created_at   INTEGER NOT NULL,
	last_seen_at INTEGER NOT NULL DEFAULT 0,
	expires_at   INTEGER NOT NULL DEFAULT 0,
	revoked_at   INTEGER NOT NULL DEFAULT 0,
	token_hash   BLOB,
	next_seq     INTEGER NOT NULL DEFAULT 1, -- the mailbox seq of the device's next item
	node         TEXT NOT NULL DEFAULT '',   -- the node holding its connection; '' when offline
	PRIMARY KEY (account, id)
);

-- Rows can carry 64 KiB of ciphertext, so the table keeps its rowid and
-- the primary key is a separate index.
CREATE TABLE mailbox (
	account      TEXT NOT NULL,
	device       INTEGER NOT NULL,
	seq          INTEGER NOT NULL,
	kind         TEXT NOT NULL,
	message_id   TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	from_account TEXT NOT NULL,
	from_device  INTEGER NOT NULL,
	to_account   TEXT NOT NULL,
	sent_at      INTEGER NOT NULL,
	body         BLOB,
	PRIMARY KEY (account, device, seq)
);
CREATE INDEX mailbox_sent_at ON mailbox (sent_at);

CREATE TABLE idempotency (
	from_account TEXT NOT NULL,
	from_device  INTEGER NOT NULL,
	client_id    TEXT NOT NULL,
	message_id   TEXT NOT NULL,
	sent_at      INTEGER NOT NULL,
	PRIMARY KEY (from_account, from_device, client_id)
) WITHOUT ROWID;
CREATE INDEX idempotency_sent_at ON idempotency (sent_at);

CREATE TABLE codes (
	phone        TEXT PRIMARY KEY,
	hash         BLOB NOT NULL,
	created_at   INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	locked_until INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE rates (
	rate_key     TEXT NOT NULL,
	window_start INTEGER NOT NULL,
	hits         INTEGER NOT NULL,
	expires_at   INTEGER NOT NULL, -- the window's end
	PRIMARY KEY (rate_key, window_start)
) WITHOUT ROWID;
CREATE INDEX rates_expires_at ON rates (expires_at);

CREATE TABLE sms_log (
	phone   TEXT PRIMARY KEY,
	body    TEXT NOT NULL,
	sent_at INTEGER NOT NULL
);

CREATE TABLE nodes (
	id           TEXT PRIMARY KEY,
	heartbeat_at INTEGER NOT NULL
);
