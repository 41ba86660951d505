-- The webhook outbox (see store/sqlstore/webhooks.go).

-- One row per event that is open (state 0) or dead (state 2); delivered
-- events are deleted. seq orders the events of one (endpoint, okey).
-- enqueued_at starts the 7-day retry deadline (reset by a replay).
CREATE TABLE webhook_events (
	seq         INTEGER PRIMARY KEY,
	id          TEXT NOT NULL UNIQUE,
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
CREATE INDEX webhook_events_open ON webhook_events (endpoint, okey, seq) WHERE state = 0;
CREATE INDEX webhook_events_dead ON webhook_events (dead_at) WHERE state = 2;

-- One row per (endpoint, okey) that has open events: what dispatchers
-- claim. due_at: when it may be claimed next (the next retry, or the end
-- of the lease while a dispatcher holds it); open_events counts the
-- queue's open events, and the row is deleted when it reaches 0.
CREATE TABLE webhook_queues (
	endpoint    TEXT NOT NULL,
	okey        TEXT NOT NULL,
	open_events INTEGER NOT NULL,
	due_at      INTEGER NOT NULL,
	lease       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (endpoint, okey)
) WITHOUT ROWID;
CREATE INDEX webhook_queues_due ON webhook_queues (due_at) WHERE due_at <> 0;
