-- The business platform (Cloud API): businesses (WABAs), their numbers,
-- apps, access tokens, webhook subscriptions, profiles, templates, and
-- the outbound queue of accepted messages. Ids are Graph ids (decimal
-- strings); times are microseconds since the Unix epoch, 0 for never.

CREATE TABLE businesses (
	id         TEXT COLLATE "C" PRIMARY KEY,
	name       TEXT NOT NULL,
	created_at BIGINT NOT NULL
);

-- A number is a Parley account served by a hosted business device.
-- next_seq: the outbound queue seq of the number's next message.
CREATE TABLE business_numbers (
	id                   TEXT COLLATE "C" PRIMARY KEY,
	business             TEXT COLLATE "C" NOT NULL REFERENCES businesses (id),
	account              TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES accounts (id),
	display_phone        TEXT NOT NULL,
	verified_name        TEXT NOT NULL DEFAULT '',
	quality              TEXT NOT NULL,
	throughput           BIGINT NOT NULL DEFAULT 0,
	tier                 TEXT NOT NULL,
	webhook_url          TEXT NOT NULL DEFAULT '',
	webhook_verify_token TEXT NOT NULL DEFAULT '',
	next_seq             BIGINT NOT NULL DEFAULT 1,
	created_at           BIGINT NOT NULL
);
CREATE INDEX business_numbers_business ON business_numbers (business, created_at);

-- secret_sealed: the app secret sealed with the node's at-rest key; the
-- database never holds it in clear. fields: subscribed webhook fields,
-- comma-separated.
CREATE TABLE business_apps (
	id            TEXT COLLATE "C" PRIMARY KEY,
	business      TEXT COLLATE "C" NOT NULL REFERENCES businesses (id),
	name          TEXT NOT NULL DEFAULT '',
	secret_sealed BYTEA NOT NULL,
	callback_url  TEXT NOT NULL DEFAULT '',
	verify_token  TEXT NOT NULL DEFAULT '',
	fields        TEXT NOT NULL DEFAULT '',
	created_at    BIGINT NOT NULL
);

-- hash: SHA-256 of the token's secret; the secret is never stored.
CREATE TABLE access_tokens (
	id         TEXT COLLATE "C" PRIMARY KEY,
	business   TEXT COLLATE "C" NOT NULL REFERENCES businesses (id),
	name       TEXT NOT NULL DEFAULT '',
	hash       BYTEA NOT NULL,
	created_at BIGINT NOT NULL,
	revoked_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX access_tokens_business ON access_tokens (business, created_at);

CREATE TABLE business_subscriptions (
	business     TEXT COLLATE "C" NOT NULL REFERENCES businesses (id),
	app          TEXT COLLATE "C" NOT NULL REFERENCES business_apps (id),
	override_url TEXT NOT NULL DEFAULT '',
	verify_token TEXT NOT NULL DEFAULT '',
	created_at   BIGINT NOT NULL,
	PRIMARY KEY (business, app)
);

-- websites: a JSON array of URLs.
CREATE TABLE business_profiles (
	number         TEXT COLLATE "C" PRIMARY KEY REFERENCES business_numbers (id),
	about          TEXT NOT NULL DEFAULT '',
	address        TEXT NOT NULL DEFAULT '',
	description    TEXT NOT NULL DEFAULT '',
	email          TEXT NOT NULL DEFAULT '',
	websites       TEXT NOT NULL DEFAULT '[]',
	vertical       TEXT NOT NULL DEFAULT '',
	picture_handle TEXT NOT NULL DEFAULT '',
	updated_at     BIGINT NOT NULL
);

-- components: the JSON array as created (normalized).
CREATE TABLE message_templates (
	id               TEXT COLLATE "C" PRIMARY KEY,
	business         TEXT COLLATE "C" NOT NULL REFERENCES businesses (id),
	name             TEXT COLLATE "C" NOT NULL,
	language         TEXT COLLATE "C" NOT NULL,
	category         TEXT NOT NULL,
	status           TEXT NOT NULL,
	parameter_format TEXT NOT NULL,
	components       TEXT NOT NULL,
	rejected_reason  TEXT NOT NULL DEFAULT '',
	send_ttl         BIGINT NOT NULL DEFAULT 0,
	created_at       BIGINT NOT NULL,
	updated_at       BIGINT NOT NULL,
	UNIQUE (business, name, language)
);
CREATE INDEX message_templates_business ON message_templates (business, id);

-- The outbound queue: one row per accepted Cloud API message (and
-- mark-as-read request), by number and per-number seq, the order the
-- number's delivery worker reads them in. body: the normalized message
-- JSON. status_rank orders statuses so that updates only move forward.
CREATE TABLE outbound (
	number      TEXT COLLATE "C" NOT NULL,
	seq         BIGINT NOT NULL,
	wamid       TEXT COLLATE "C" NOT NULL UNIQUE,
	to_account  TEXT NOT NULL,
	type        TEXT NOT NULL,
	body        TEXT NOT NULL,
	biz_opaque  TEXT NOT NULL DEFAULT '',
	context_id  TEXT NOT NULL DEFAULT '',
	category    TEXT NOT NULL DEFAULT '',
	status      TEXT NOT NULL,
	status_rank BIGINT NOT NULL,
	error_code  BIGINT NOT NULL DEFAULT 0,
	created_at  BIGINT NOT NULL,
	updated_at  BIGINT NOT NULL,
	PRIMARY KEY (number, seq)
);
CREATE INDEX outbound_created_at ON outbound (created_at);
