-- The mailbox loses its index on sent_at. Every item was entered into it
-- when stored and removed from it when acknowledged, a third of the b-tree
-- work of both (docs/BENCHMARKS.md, session 9), only so that the minutely
-- purge could find items past the retention. Rows are stored in rowid
-- order, which is the order they were stored in, so the purge now reads
-- the oldest rows by rowid instead and stops at the first slice that is
-- not entirely past the retention (store/sqlstore, Dialect.PurgeInRowOrder).
DROP INDEX mailbox_sent_at;
