-- Webhook event ids are unique per queue, (endpoint, okey, id), instead of
-- across the table, as on SQLite (where an index on the random ids alone
-- made every settle rewrite a page of it per event; see SQLite's 0023).
-- Dead events are found by id (replay) through a partial index.
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_id_key;
CREATE UNIQUE INDEX webhook_events_id ON webhook_events (endpoint, okey, id);
CREATE INDEX webhook_events_dead_id ON webhook_events (id) WHERE state = 2;
