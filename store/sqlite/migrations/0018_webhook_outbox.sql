-- Nothing changes on SQLite (PostgreSQL's 0018 re-keys webhook_events by
-- queue). A WITHOUT ROWID webhook_events clustered by (endpoint, okey,
-- seq) was tried and measured (docs/BENCHMARKS.md, "Webhook dispatch"):
-- enqueues became about twice as slow, because SQLite keeps whole rows in
-- the interior pages of such a table and 500-byte bodies leave it a fan-out
-- of a few rows per page, and dispatch did not get faster. 0006's rowid
-- table with its open-events index stays.
SELECT 1;
