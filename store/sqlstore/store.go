package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
)

// Store implements parley.Store on database/sql.
type Store struct {
	w, r   *sql.DB // writes and reads; the same pool where the database has no single-writer rule
	d      Dialect
	texts  texts
	b      *batcher
	ob     *outboundBatcher // the outbound queue's writer, started on first use
	obOnce sync.Once
	hits   atomic.Uint64 // rate hits, to clean old windows now and then
	closed atomic.Bool

	onWebhooks atomic.Pointer[func()] // called after a batch committed webhook events

	// scratch is the mailbox batch's buffers, kept from batch to batch:
	// only the batcher's writer goroutine touches it (apply).
	scratch batchScratch

	// prepared holds the bulk statements on the write pool, by text. The
	// batcher's writer goroutine fills it once; every transaction's bulk
	// statements (webhook claims and settles too) read it.
	prepared atomic.Pointer[map[string]*sql.Stmt]
}

var _ parley.Store = (*Store)(nil)

// New returns a Store that writes through w and reads through r (they may
// be the same pool) and starts its batcher. The schema must have been
// migrated (see Migrate). Close stops the batcher and closes both pools.
func New(w, r *sql.DB, d Dialect) *Store {
	s := &Store{w: w, r: r, d: d, texts: newTexts(&d)}
	s.b = newBatcher(s)
	return s
}

// Ping checks that both pools reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return s.wrap("Ping", err)
	}
	if err := s.r.PingContext(ctx); err != nil {
		return s.wrap("Ping", err)
	}
	return nil
}

// Close finishes every Deliver and Ack already queued, then closes the
// pools. Calls after the first return nil.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.b.close()
	var err error
	if s.b.conn != nil {
		err = s.b.conn.Close() // the writer has stopped: the connection is free
	}
	s.obOnce.Do(func() {}) // no writer can start after this
	if s.ob != nil {
		s.ob.close()
	}
	if m := s.prepared.Load(); m != nil {
		for _, p := range *m {
			p.Close()
		}
	}
	err = errors.Join(err, s.w.Close())
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	if err != nil {
		return fmt.Errorf("%s.Close: %w", s.d.Name, err)
	}
	return nil
}

func (s *Store) sql(q query) string { return s.texts.queries[q] }

// writeTx runs fn in a write transaction and commits it; name is the
// operation for errors.
func (s *Store) writeTx(ctx context.Context, name string, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(name, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return s.wrap(name, err)
	}
	if err := tx.Commit(); err != nil {
		return s.wrap(name, err)
	}
	return nil
}

// op names an operation in errors: "sqlite.Deliver".
func (s *Store) op(name string) string { return s.d.Name + "." + name }

// wrap adds the operation to an unexpected error. Domain errors pass
// through; an unreachable database becomes EUNAVAILABLE so that callers
// can tell clients to retry.
func (s *Store) wrap(name string, err error) error {
	var e *parley.Error
	switch {
	case errors.As(err, &e):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", s.op(name), err)
	case s.d.unavailable(err):
		return &parley.Error{Code: parley.EUNAVAILABLE, Op: s.op(name), Message: "storage is unavailable; try again later", Err: err}
	}
	return fmt.Errorf("%s: %w", s.op(name), err)
}

func (s *Store) notFound(name, format string, args ...any) error {
	e := parley.Errorf(parley.ENOTFOUND, format, args...)
	e.Op = s.op(name)
	return e
}

// Times are stored as BIGINT microseconds since the Unix epoch in every
// dialect; the zero time is stored as 0.

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// blob normalizes empty byte slices to nil: drivers differ in whether an
// empty BLOB reads back as nil or as []byte{}.
func blob(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// rowsAffected reports whether res changed any row.
func rowsAffected(res sql.Result) (bool, error) {
	n, err := res.RowsAffected()
	return n > 0, err
}
