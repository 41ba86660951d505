package sqlstore

import (
	"context"
	"database/sql"
)

// wtx is a write transaction as the bulk statements see it: texts with
// arguments, run prepared. A group commit's transaction is a batchTx where
// the dialect has a batch connection (SQLite), else an sqlTx, as every
// other write transaction is.
type wtx interface {
	// exec runs text and returns the number of rows it changed.
	exec(text string, args []any) (int64, error)
	// query runs text and calls scan for every row it returns.
	query(text string, args []any, scan func(scanner) error) error
}

// sqlTx runs statements in a database/sql transaction, with the write
// pool's prepared statements where prepareBulk made them.
type sqlTx struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Store
}

func (s *Store) txOf(ctx context.Context, tx *sql.Tx) sqlTx { return sqlTx{ctx, tx, s} }

func (t sqlTx) exec(text string, args []any) (int64, error) {
	st, err := t.s.stmt(t.ctx, t.tx, text)
	if err != nil {
		return 0, err
	}
	res, err := st.ExecContext(t.ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t sqlTx) query(text string, args []any, scan func(scanner) error) error {
	st, err := t.s.stmt(t.ctx, t.tx, text)
	if err != nil {
		return err
	}
	r, err := st.QueryContext(t.ctx, args...)
	if err != nil {
		return err
	}
	return scanAll(r, scan)
}

// BatchConn is a connection of the write pool's database that runs the
// mailbox group commit's transactions alone (Dialect.OpenBatchConn). Only
// the writer goroutine uses it, one transaction at a time, and only while
// it holds the write pool's connection, so that no other transaction
// writes meanwhile (SQLite has one writer; waiting for its lock would
// mean polling it).
//
// Exec and Query take the arguments this package passes: strings,
// integers, bytes and nil; Query's rows scan into *string, *int64 and
// *[]byte. Each text is one statement; the connection may keep it
// prepared for its life.
type BatchConn interface {
	Begin() error
	Commit() error
	// Rollback ends the transaction, also one that the database has
	// ended already.
	Rollback() error
	// Exec runs text and returns the number of rows it changed.
	Exec(text string, args []any) (int64, error)
	// Query runs text and calls scan for every row it returns; scan
	// runs no statement on the connection.
	Query(text string, args []any, scan func(Row) error) error
	Close() error
}

// Row is a row of a BatchConn's query.
type Row interface{ Scan(dest ...any) error }

// batchTx runs a group commit's statements on the batch connection.
type batchTx struct{ c BatchConn }

func (t batchTx) exec(text string, args []any) (int64, error) { return t.c.Exec(text, args) }

func (t batchTx) query(text string, args []any, scan func(scanner) error) error {
	return t.c.Query(text, args, func(r Row) error { return scan(r) })
}

// withBatchConn runs fn on the batch connection, in a transaction that
// is committed when fn returns nil and rolled back otherwise. The
// connection is opened on first use, and again after it was closed
// because a transaction could not be ended.
func (s *Store) withBatchConn(ctx context.Context, fn func(t wtx) error) error {
	hold, err := s.w.Conn(ctx) // see BatchConn
	if err != nil {
		return err
	}
	defer hold.Close()
	b := s.b
	if b.conn == nil {
		if b.conn, err = s.d.OpenBatchConn(); err != nil {
			b.conn = nil
			return err
		}
	}
	c := b.conn
	if err := c.Begin(); err != nil {
		return err
	}
	err = fn(batchTx{c})
	if err == nil {
		err = c.Commit()
	}
	if err != nil {
		if rerr := c.Rollback(); rerr != nil {
			c.Close() // a transaction left open would hold the database's write lock
			b.conn = nil
		}
	}
	return err
}
