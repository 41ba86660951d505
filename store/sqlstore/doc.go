// Package sqlstore implements parley.Store once, on database/sql, for
// every SQL database Parley runs on. store/sqlite and store/postgres open
// their database, migrate it and hand it to New with a Dialect; the
// queries, one file per aggregate, are shared.
//
// # SQL
//
// Queries are hand-written with ? placeholders in the SQL that SQLite and
// PostgreSQL share: ON CONFLICT upserts, RETURNING, row values, UPDATE ...
// FROM (VALUES ...). New rebinds them once for the dialect ($1, $2, ...
// on PostgreSQL). A Dialect carries only what really differs: the
// placeholder form, the row-locking clause, how errors are classified,
// and the lock that serializes migrations between processes. Times are
// BIGINT microseconds since the Unix epoch in both databases, 0 for the
// zero time, and read back in UTC.
//
// # Group commit
//
// Deliver and Ack are the hot path: every message is one Deliver, every
// fetch one Ack. They do not open transactions of their own. Each call
// puts an operation on a bounded queue and waits; one writer goroutine
// takes every operation waiting (up to 1,024), runs them in one transaction
// and answers each caller. While it commits, the next batch queues up, so
// batches grow with load and the cost of a commit is shared by all the
// operations in it.
//
// A batch is a handful of statements whatever its size, each over all
// its rows at once: insert the idempotency keys (ON CONFLICT DO NOTHING;
// when the row count says some were not new, the batch runs again with
// RETURNING, which tells which were; the others are looked up, and their
// deliveries are duplicates), take each device's sequence numbers with
// one UPDATE ... RETURNING on the next_seq counters (a revoked or unknown
// device returns no row), delete acked items (read back with RETURNING
// to make the receipts, unless the caller knew them: then only counted,
// and the batch runs again carefully when the count falls short), insert
// the new ones (the receipts one ack makes for one device as one row: see
// span.go). The
// statements run in chunks of power-of-two sizes so that their few texts
// stay prepared. On PostgreSQL the batch first locks the device rows it
// touches with SELECT ... ORDER BY account, id FOR UPDATE, so that
// batches of different nodes wait for each other in one order instead of
// deadlocking, and learns then which devices are gone. SQLite's
// transactions hold the database's write lock, so there the UPDATE tells;
// when it finds a delivery addressed to a gone device after its key and
// other items were written, the transaction is rolled back and run again
// without that delivery (the rare path; each run removes one more).
//
// Ordering: operations are decided in queue order. Each device's items
// get consecutive sequence numbers from the next_seq counter on its row,
// without gaps, because the counter is written in the same transaction as
// the items. A delivery whose key was committed earlier, or earlier in
// the same batch, is a duplicate and writes nothing. An operation
// addressed to a revoked or unknown device fails alone with ESTALE and
// writes nothing; it does not fail the batch.
//
// Failure: when the batch transaction fails (a database error, or a key
// inserted by another node in the meantime), every operation is tried
// again in a transaction of its own, up to three times when the error is
// one of contention, so that one bad operation cannot fail the others.
//
// Cancellation: a caller whose ctx ends stops waiting at once. An
// operation whose ctx has ended before the writer takes it is skipped;
// one already in a transaction may still commit, so the caller cannot
// know, and must retry with the same idempotency key. The writer reads
// the items' bodies without copying them: a caller must not modify them
// after passing them in, even when it stops waiting.
//
// Media: blobs are stored in 1 MiB chunk rows, each written, and later
// deleted a few at a time, in a short transaction of its own outside the
// batcher, so that a large upload or deletion never holds the write lock
// (SQLite's single writer connection) for long. A delivery that names
// blobs links them to its message inside its batch transaction, and marks
// its mailbox rows has_media, so that the sweeper can ask through a
// partial index whether a message still has undelivered copies (see
// media.go).
//
// Lifecycle: New starts the writer; Close stops accepting operations,
// lets the writer answer every queued one, waits for it, then closes the
// pools. Operations after Close fail with EUNAVAILABLE.
package sqlstore
