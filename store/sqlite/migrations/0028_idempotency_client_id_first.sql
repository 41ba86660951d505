-- The idempotency keys' primary key starts with the client id. Client ids
-- that grow with time (the SDK's, docs/protocol.md) then put the keys of
-- one moment next to each other whoever sent them, so that a batch of
-- new keys lands in a few b-tree pages at the right edge instead of one
-- page per sender: on a busy server about half of what a commit wrote to
-- the WAL (docs/BENCHMARKS.md, session 9). Lookups name all three
-- columns, so they use the key in any order. SQLite cannot change a
-- primary key, so the table is rebuilt.
CREATE TABLE idempotency_new (
	from_account TEXT NOT NULL,
	from_device  INTEGER NOT NULL,
	client_id    TEXT NOT NULL,
	message_id   TEXT NOT NULL,
	sent_at      INTEGER NOT NULL,
	PRIMARY KEY (client_id, from_account, from_device)
) WITHOUT ROWID;
INSERT INTO idempotency_new SELECT from_account, from_device, client_id, message_id, sent_at FROM idempotency;
DROP TABLE idempotency;
ALTER TABLE idempotency_new RENAME TO idempotency;
CREATE INDEX idempotency_sent_at ON idempotency (sent_at);
