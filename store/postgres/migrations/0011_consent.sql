-- The opt-in (consent) ledger: one append-only, hash-chained ledger per
-- business (consent.go). Personal fields (customer, evidence, salt) are
-- emptied by erasure; personal_digest and customer_key stay, so the chain
-- still verifies and an opted-out number stays suppressed.
CREATE TABLE consent_entries (
	business        TEXT NOT NULL,
	seq             BIGINT NOT NULL,
	number          TEXT NOT NULL,
	customer        TEXT NOT NULL,
	customer_key    TEXT NOT NULL,
	action          TEXT NOT NULL,
	purposes        TEXT NOT NULL, -- sorted, one per line
	source_type     TEXT NOT NULL,
	source_id       TEXT NOT NULL,
	evidence        TEXT NOT NULL,
	salt            TEXT NOT NULL,
	personal_digest TEXT NOT NULL,
	recorded_at     BIGINT NOT NULL,
	prev_hash       TEXT NOT NULL,
	hash            TEXT NOT NULL,
	erased_at       BIGINT NOT NULL DEFAULT 0,
	PRIMARY KEY (business, seq)
);
CREATE INDEX consent_entries_customer ON consent_entries (customer_key, business, seq);

-- The head of each ledger; its row lock serializes appends of one
-- business on every node.
CREATE TABLE consent_heads (
	business TEXT PRIMARY KEY,
	seq      BIGINT NOT NULL,
	hash     TEXT NOT NULL
);

-- Current state per (business, customer, purpose), written with the entry.
CREATE TABLE consent_states (
	business     TEXT NOT NULL,
	customer_key TEXT NOT NULL,
	purpose      TEXT NOT NULL,
	action       TEXT NOT NULL,
	seq          BIGINT NOT NULL,
	at           BIGINT NOT NULL,
	PRIMARY KEY (business, customer_key, purpose)
);

-- Opt-out and opt-in keywords of a business (one per line); no row: the defaults.
CREATE TABLE consent_keywords (
	business   TEXT PRIMARY KEY,
	stop       TEXT NOT NULL,
	start      TEXT NOT NULL,
	updated_at BIGINT NOT NULL
);

CREATE INDEX business_messages_customer ON business_messages (customer);
CREATE INDEX business_windows_customer ON business_windows (customer);
CREATE INDEX business_reach_customer ON business_reach (customer);
