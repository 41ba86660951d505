-- Business chats of hosted business devices: links between Parley
-- messages and their Cloud API ids (wamids), and the time of each
-- customer's last message per number (the 24-hour window).
CREATE TABLE business_messages (
	message_id TEXT PRIMARY KEY,
	wamid      TEXT NOT NULL UNIQUE,
	number     TEXT NOT NULL,
	customer   TEXT NOT NULL,
	inbound    BIGINT NOT NULL,
	created_at BIGINT NOT NULL
);
CREATE INDEX business_messages_created ON business_messages (created_at);

CREATE TABLE business_windows (
	number          TEXT NOT NULL,
	customer        TEXT NOT NULL,
	last_inbound_at BIGINT NOT NULL,
	PRIMARY KEY (number, customer)
);

-- Customers a business reached outside their service window (messaging
-- limits: distinct customers per rolling 24 hours).
CREATE TABLE business_reach (
	business   TEXT NOT NULL,
	customer   TEXT NOT NULL,
	reached_at BIGINT NOT NULL,
	PRIMARY KEY (business, customer)
);
CREATE INDEX business_reach_at ON business_reach (business, reached_at);

-- One row per business serializes concurrent reach decisions.
CREATE TABLE business_reach_lock (
	business TEXT PRIMARY KEY,
	n        BIGINT NOT NULL DEFAULT 0
);
