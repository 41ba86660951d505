-- Webhook event ids are unique per queue, (endpoint, okey, id), instead of
-- across the table. The ids are random (or hashes), so deleting one
-- settle's delivered events from an index on id alone rewrote a different
-- page of it for nearly every event; keyed by queue first, a queue's ids
-- are neighbours and a settle rewrites about one page per queue
-- (docs/BENCHMARKS.md, "Webhook dispatch"). Dead events are found by id
-- (replay) through a partial index of their own. SQLite cannot drop a
-- column's UNIQUE constraint, so the table is rebuilt.
CREATE TABLE webhook_events_new (
	seq         INTEGER PRIMARY KEY,
	id          TEXT NOT NULL,
	endpoint    TEXT NOT NULL,
	okey        TEXT NOT NULL,
	body        BLOB NOT NULL,
	state       INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	enqueued_at INTEGER NOT NULL,
	dead_at     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO webhook_events_new (seq, id, endpoint, okey, body, state, attempts, last_error, created_at, enqueued_at, dead_at)
	SELECT seq, id, endpoint, okey, body, state, attempts, last_error, created_at, enqueued_at, dead_at FROM webhook_events;
DROP TABLE webhook_events;
ALTER TABLE webhook_events_new RENAME TO webhook_events;
CREATE UNIQUE INDEX webhook_events_id ON webhook_events (endpoint, okey, id);
CREATE INDEX webhook_events_open ON webhook_events (endpoint, okey, seq) WHERE state = 0;
CREATE INDEX webhook_events_dead ON webhook_events (dead_at) WHERE state = 2;
CREATE INDEX webhook_events_dead_id ON webhook_events (id) WHERE state = 2;
