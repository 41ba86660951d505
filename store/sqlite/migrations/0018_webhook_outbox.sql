-- The webhook outbox's events, clustered by queue (see
-- store/sqlstore/webhooks.go): the table is a WITHOUT ROWID b-tree keyed by
-- (endpoint, okey, seq), so the open events of one queue sit together on
-- a page or two. A claim reads them as one key range and a settle deletes
-- them from the same pages; 0006's rowid table scattered them (and its
-- separate open-events index) over a page per event.
--
-- seq is no longer the rowid: the store takes it from webhook_seq, one
-- counter row advanced by every enqueue (SQLite has one writer). It still
-- orders the events of one queue and numbers dead events for the
-- operator's listing (webhook_events_dead_seq).
CREATE TABLE webhook_events_0018 (
	endpoint    TEXT NOT NULL,
	okey        TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	id          TEXT NOT NULL UNIQUE,
	body        BLOB NOT NULL,
	state       INTEGER NOT NULL DEFAULT 0,
	attempts    INTEGER NOT NULL DEFAULT 0,
	last_error  TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	enqueued_at INTEGER NOT NULL,
	dead_at     INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (endpoint, okey, seq)
) WITHOUT ROWID;
INSERT INTO webhook_events_0018 (endpoint, okey, seq, id, body, state, attempts, last_error, created_at, enqueued_at, dead_at)
	SELECT endpoint, okey, seq, id, body, state, attempts, last_error, created_at, enqueued_at, dead_at FROM webhook_events;

CREATE TABLE webhook_seq (
	last INTEGER NOT NULL
);
INSERT INTO webhook_seq (last) SELECT COALESCE(MAX(seq), 0) FROM webhook_events;

DROP TABLE webhook_events;
ALTER TABLE webhook_events_0018 RENAME TO webhook_events;
CREATE INDEX webhook_events_dead ON webhook_events (dead_at) WHERE state = 2;
CREATE INDEX webhook_events_dead_seq ON webhook_events (seq) WHERE state = 2;
