// Package sqlite opens Parley's store on an SQLite file, with the pure-Go
// driver modernc.org/sqlite.
//
// SQLite allows one writer at a time, so the store has two pools: a write
// pool of exactly one connection, whose transactions begin IMMEDIATE
// (taking the write lock up front, so that two writers never deadlock
// upgrading a read lock), and a read pool of several query_only
// connections, which WAL lets read while the writer writes. Deliver and
// Ack reach the writer through sqlstore's group commit, which turns many
// concurrent messages into one transaction. Its transactions run on a
// third kind of connection, the batch connection (batchconn.go): SQLite's
// C API called without the driver, while the writer holds the write
// pool's connection so that the two never write at once. With
// synchronous=NORMAL in WAL mode a commit writes the log without waiting
// for fsync, and a checkpoint syncs it later, so a crash of the process
// loses nothing and a power loss at most the last transactions.
//
// Every connection runs, in this order: busy_timeout(5000) first, so that
// nothing after it fails with SQLITE_BUSY while another process holds a
// lock; journal_mode(WAL); synchronous(NORMAL); foreign_keys(ON).
//
// Checkpoints, which copy the WAL into the database file and sync both,
// run in the background on a connection of their own (PASSIVE, every
// 100ms), so that the writer does not stop for them; the writer
// checkpoints only when the WAL passes 8000 pages, and by then finds it
// mostly copied, which lets the WAL start over instead of growing.
//
// The schema is migrated on Open from the embedded migrations/*.sql; a
// database migrated by a newer binary is refused.
package sqlite
