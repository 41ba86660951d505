-- The idempotency keys become a table with rowids, stored in the order
-- they were claimed, with a unique index on the key, and lose their
-- index on sent_at. A claim appended a row to a table keyed on the whole
-- key (rows of ~90 bytes, whose pages split the costly way, as every
-- index page does) and an entry to the sent_at index; it now appends a
-- row at the end of the rowid table (SQLite's cheapest insert) and an
-- entry of the key alone to the unique index: the key claim took
-- 1.47-1.96 CPU-us per message instead of 1.90-2.62 in three alternating
-- benchmark pairs (docs/BENCHMARKS.md, session 11). The purge
-- reads the oldest rows by rowid instead, as the mailbox's does
-- (0029, store/sqlstore Dialect.PurgeInRowOrder). Rows are copied oldest
-- first, so that the rowid order holds for the keys already there.
CREATE TABLE idempotency_new (
	from_account TEXT NOT NULL,
	from_device  INTEGER NOT NULL,
	client_id    TEXT NOT NULL,
	message_id   TEXT NOT NULL,
	sent_at      INTEGER NOT NULL
);
INSERT INTO idempotency_new (from_account, from_device, client_id, message_id, sent_at)
	SELECT from_account, from_device, client_id, message_id, sent_at FROM idempotency ORDER BY sent_at;
DROP TABLE idempotency;
ALTER TABLE idempotency_new RENAME TO idempotency;
CREATE UNIQUE INDEX idempotency_key ON idempotency (client_id, from_account, from_device);
