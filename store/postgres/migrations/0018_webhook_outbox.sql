-- The webhook outbox's events keyed by queue (see
-- store/sqlstore/webhooks.go): the primary key (endpoint, okey, seq) is
-- the index a claim reads a queue's head from, so the separate
-- open-events index goes, and every enqueue and settle maintains one
-- index fewer. seq stays an identity column: unique, and it orders the
-- events of one queue; dead events are listed by it
-- (webhook_events_dead_seq).
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_pkey;
ALTER TABLE webhook_events ADD PRIMARY KEY (endpoint, okey, seq);
DROP INDEX webhook_events_open;
CREATE INDEX webhook_events_dead_seq ON webhook_events (seq) WHERE state = 2;
