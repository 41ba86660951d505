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
