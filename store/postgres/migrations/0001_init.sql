-- Times are microseconds since the Unix epoch; 0 means "never".

CREATE TABLE accounts (
	id          TEXT COLLATE "C" PRIMARY KEY, -- byte order, the order a batch locks devices in
	name        TEXT NOT NULL DEFAULT '',
	presence    TEXT NOT NULL,
	created_at  BIGINT NOT NULL,
	next_device BIGINT NOT NULL DEFAULT 1 -- device ids are never reused
);

CREATE TABLE devices (
	account      TEXT COLLATE "C" NOT NULL REFERENCES accounts (id),
	id           BIGINT NOT NULL,
	name         TEXT NOT NULL DEFAULT '',
	platform     TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	last_seen_at BIGINT NOT NULL DEFAULT 0,
	expires_at   BIGINT NOT NULL DEFAULT 0,
	revoked_at   BIGINT NOT NULL DEFAULT 0,
	token_hash   BYTEA,
	next_seq     BIGINT NOT NULL DEFAULT 1, -- the mailbox seq of the device's next item
	node         TEXT NOT NULL DEFAULT '',   -- the node holding its connection; '' when offline
	PRIMARY KEY (account, id)
);

-- Rows can carry 64 KiB of ciphertext; PostgreSQL moves large bodies to TOAST.
CREATE TABLE mailbox (
	account      TEXT NOT NULL,
	device       BIGINT NOT NULL,
	seq          BIGINT NOT NULL,
	kind         TEXT NOT NULL,
	message_id   TEXT NOT NULL,
	client_id    TEXT NOT NULL,
	from_account TEXT NOT NULL,
	from_device  BIGINT NOT NULL,
	to_account   TEXT NOT NULL,
	sent_at      BIGINT NOT NULL,
	body         BYTEA,
	PRIMARY KEY (account, device, seq)
);
CREATE INDEX mailbox_sent_at ON mailbox (sent_at);

CREATE TABLE idempotency (
	from_account TEXT NOT NULL,
	from_device  BIGINT NOT NULL,
	client_id    TEXT NOT NULL,
	message_id   TEXT NOT NULL,
	sent_at      BIGINT NOT NULL,
	PRIMARY KEY (from_account, from_device, client_id)
);
CREATE INDEX idempotency_sent_at ON idempotency (sent_at);

CREATE TABLE codes (
	phone        TEXT PRIMARY KEY,
	hash         BYTEA NOT NULL,
	created_at   BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL,
	attempts     BIGINT NOT NULL DEFAULT 0,
	locked_until BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE rates (
	rate_key     TEXT NOT NULL,
	window_start BIGINT NOT NULL,
	hits         BIGINT NOT NULL,
	expires_at   BIGINT NOT NULL, -- the window's end
	PRIMARY KEY (rate_key, window_start)
);
CREATE INDEX rates_expires_at ON rates (expires_at);

CREATE TABLE sms_log (
	phone   TEXT PRIMARY KEY,
	body    TEXT NOT NULL,
	sent_at BIGINT NOT NULL
);

CREATE TABLE nodes (
	id           TEXT PRIMARY KEY,
	heartbeat_at BIGINT NOT NULL
);
