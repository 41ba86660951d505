package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// Dialect is what differs between the SQL databases this package runs
// on. Queries are written once, with ? placeholders, in the SQL that
// SQLite and PostgreSQL share (ON CONFLICT upserts, RETURNING, row values,
// UPDATE ... FROM); the dialect covers only what they do not share.
type Dialect struct {
	// Name is used in error messages ("sqlite", "postgres").
	Name string

	// Numbered selects $1, $2, ... placeholders instead of ?. Queries
	// are rebound once when the Store is built.
	Numbered bool

	// LockRows is appended to the query that reads the device rows a
	// batch will change (" FOR UPDATE" on PostgreSQL). It is empty where
	// the transaction already holds the database's write lock (SQLite's
	// BEGIN IMMEDIATE).
	LockRows string

	// LockRowsNoWait is LockRows for device rows that a batch finds it
	// must change only after it has locked the others (the senders'
	// devices that the receipts of its acks go to): " FOR UPDATE NOWAIT"
	// on PostgreSQL. Waiting for them there, out of the order every batch
	// locks in, could deadlock with another node's batch, which PostgreSQL
	// would detect only after deadlock_timeout (1 s by default); a lock
	// that is not free at once (LockBusy) makes the batch run again
	// instead, locking those rows with the others, in order.
	LockRowsNoWait string

	// LockBusy reports whether err says that LockRowsNoWait found a row
	// locked.
	LockBusy func(err error) bool

	// SkipLocked is appended to the query that picks webhook queues to
	// claim (" FOR UPDATE SKIP LOCKED" on PostgreSQL), so that dispatchers
	// on several nodes claim different queues without waiting for each
	// other. Empty where one writer claims at a time (SQLite).
	SkipLocked string

	// LocalWrites says that a write transaction cannot wait on a network:
	// the group commits (mailbox and outbound queue) then run without a
	// deadline. On SQLite, whose lock waits busy_timeout bounds, a
	// deadline made the driver start a goroutine and a progress handler
	// for every statement of a batch, to interrupt it when the deadline
	// passed (about a tenth of the writer's time).
	LocalWrites bool

	// OpenBatchConn, where set, opens the connection the mailbox group
	// commit runs its transactions on (see BatchConn); else they run on
	// the write pool. The write pool must then be one connection
	// (SQLite's).
	OpenBatchConn func() (BatchConn, error)

	// PurgeInRowOrder says that the mailbox and the idempotency keys have
	// no index on sent_at and that their rows have rowids in the order
	// they were stored (SQLite): Purge deletes the rows past the retention
	// among the oldest rows by rowid, slice after slice, and stops at a
	// slice that is not entirely past it. An item stored with an older
	// time than items stored before it (a copy resent for a new device
	// keeps its message's time) is then deleted once those are, at the
	// latest the retention after it was stored.
	PurgeInRowOrder bool

	// Retryable reports whether a transaction failed only because of
	// concurrent work (busy database, deadlock, serialization failure, a
	// unique key inserted by a concurrent transaction), so that the same
	// work may succeed when tried again.
	Retryable func(err error) bool

	// Unavailable reports whether err means the database could not be
	// reached or is overloaded, rather than that the statement was wrong.
	Unavailable func(err error) bool

	// LockMigrations serializes migrations between processes sharing the
	// database and returns the function that releases the lock. Nil when
	// the migration transactions serialize themselves.
	LockMigrations func(ctx context.Context, conn *sql.Conn) (unlock func() error, err error)
}

// rebind rewrites ? placeholders to the dialect's form. Queries in this
// package never contain ? inside string literals.
func (d *Dialect) rebind(query string) string {
	if !d.Numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + len(query)/8)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] != '?' {
			b.WriteByte(query[i])
			continue
		}
		n++
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(n))
	}
	return b.String()
}

func (d *Dialect) retryable(err error) bool   { return d.Retryable != nil && d.Retryable(err) }
func (d *Dialect) unavailable(err error) bool { return d.Unavailable != nil && d.Unavailable(err) }
