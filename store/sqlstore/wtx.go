package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"io"
)

// wtx is a write transaction as the bulk statements see it: texts with
// arguments, run prepared. A group commit's transaction is a rawTx where
// the dialect has one write connection (SQLite), else an sqlTx, as every
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

// rawTx runs a group commit's statements on the driver's connection
// itself, prepared once for the connection's life. database/sql's layer
// cost the mailbox writer, the bottleneck of a saturated node, several
// per cent of its time: an argument slice converted and allocated per
// statement (a tenth of the server's allocations), a statement bound to
// each transaction, a goroutine per transaction and per result set to
// watch a context that cannot end.
//
// It is only for a write pool of one connection that lives as long as
// the Store (Dialect.OneWriteConn): the statements belong to that
// connection. rawStmts is owned by the mailbox writer goroutine.
type rawTx struct {
	ctx   context.Context
	conn  driver.Conn
	stmts *rawStmts
	row   rawRow
}

// rawStmts are the statements prepared on one driver connection, and the
// buffers every statement of the writer reuses.
type rawStmts struct {
	conn  any // the driver connection they belong to
	byKey map[string]driver.Stmt
	args  []driver.NamedValue
	dest  []driver.Value
}

// use makes r the statements of conn. A connection the pool replaced
// (it only does so after the driver reported it broken) takes its
// statements with it; they are forgotten, not closed.
func (r *rawStmts) use(conn any) {
	if r.conn != conn {
		r.conn, r.byKey = conn, make(map[string]driver.Stmt)
	}
}

// close closes the statements; conn must be their connection.
func (r *rawStmts) close(conn any) {
	if r.conn == conn {
		for _, st := range r.byKey {
			st.Close()
		}
	}
	r.conn, r.byKey = nil, nil
}

// withRaw runs fn on the write pool's connection, in a transaction that
// is committed when fn returns nil and rolled back otherwise.
func (s *Store) withRaw(ctx context.Context, stmts *rawStmts, fn func(t *rawTx) error) error {
	c, err := s.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Raw(func(dc any) error {
		conn, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("sqlstore: driver connection %T is not a driver.Conn", dc)
		}
		begin, ok := dc.(driver.ConnBeginTx)
		if !ok {
			return fmt.Errorf("sqlstore: driver connection %T cannot begin transactions with a context", dc)
		}
		stmts.use(dc)
		tx, err := begin.BeginTx(ctx, driver.TxOptions{})
		if err != nil {
			return err
		}
		t := &rawTx{ctx: ctx, conn: conn, stmts: stmts}
		if err := fn(t); err != nil {
			tx.Rollback() // fn's error says what went wrong
			return err
		}
		return tx.Commit()
	})
}

// closeRaw closes the statements on the write pool's connection.
func (s *Store) closeRaw(stmts *rawStmts) {
	c, err := s.w.Conn(context.Background())
	if err != nil {
		return
	}
	defer c.Close()
	c.Raw(func(dc any) error {
		stmts.close(dc)
		return nil
	})
}

func (t *rawTx) stmt(text string) (driver.Stmt, error) {
	if st := t.stmts.byKey[text]; st != nil {
		return st, nil
	}
	var st driver.Stmt
	var err error
	if p, ok := t.conn.(driver.ConnPrepareContext); ok {
		st, err = p.PrepareContext(t.ctx, text)
	} else {
		st, err = t.conn.Prepare(text)
	}
	if err != nil {
		return nil, err
	}
	t.stmts.byKey[text] = st
	return st, nil
}

// bind converts args as database/sql's default converter does (every
// argument of this package is a string, an integer, bytes or nil).
func (t *rawTx) bind(args []any) ([]driver.NamedValue, error) {
	nv := t.stmts.args[:0]
	for i, a := range args {
		v := driver.Value(a)
		if !driver.IsValue(v) {
			var err error
			if v, err = driver.DefaultParameterConverter.ConvertValue(a); err != nil {
				return nil, fmt.Errorf("sqlstore: argument %d: %w", i+1, err)
			}
		}
		nv = append(nv, driver.NamedValue{Ordinal: i + 1, Value: v})
	}
	t.stmts.args = nv
	return nv, nil
}

func (t *rawTx) exec(text string, args []any) (int64, error) {
	st, err := t.stmt(text)
	if err != nil {
		return 0, err
	}
	ex, ok := st.(driver.StmtExecContext)
	if !ok {
		return 0, fmt.Errorf("sqlstore: driver statement %T cannot execute with a context", st)
	}
	nv, err := t.bind(args)
	if err != nil {
		return 0, err
	}
	res, err := ex.ExecContext(t.ctx, nv)
	clear(nv) // the arguments are not kept alive by the reused slice
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *rawTx) query(text string, args []any, scan func(scanner) error) error {
	st, err := t.stmt(text)
	if err != nil {
		return err
	}
	q, ok := st.(driver.StmtQueryContext)
	if !ok {
		return fmt.Errorf("sqlstore: driver statement %T cannot query with a context", st)
	}
	nv, err := t.bind(args)
	if err != nil {
		return err
	}
	rows, err := q.QueryContext(t.ctx, nv)
	clear(nv)
	if err != nil {
		return err
	}
	n := len(rows.Columns())
	if cap(t.stmts.dest) < n {
		t.stmts.dest = make([]driver.Value, n)
	}
	dest := t.stmts.dest[:n]
	for {
		clear(dest)
		if err := rows.Next(dest); err != nil {
			if err == io.EOF {
				break
			}
			rows.Close()
			return err
		}
		t.row.vals = dest
		if err := scan(&t.row); err != nil {
			rows.Close()
			return err
		}
	}
	clear(dest)
	return rows.Close()
}

// rawRow scans a driver's row into the destinations this package uses.
type rawRow struct{ vals []driver.Value }

func (r *rawRow) Scan(dest ...any) error {
	if len(dest) != len(r.vals) {
		return fmt.Errorf("sqlstore: %d destinations for %d columns", len(dest), len(r.vals))
	}
	for i, d := range dest {
		if err := scanValue(d, r.vals[i]); err != nil {
			return fmt.Errorf("sqlstore: column %d: %w", i+1, err)
		}
	}
	return nil
}

func scanValue(dest any, v driver.Value) error {
	switch d := dest.(type) {
	case *string:
		switch v := v.(type) {
		case string:
			*d = v
			return nil
		case []byte:
			*d = string(v)
			return nil
		}
	case *int64:
		if v, ok := v.(int64); ok {
			*d = v
			return nil
		}
	case *[]byte:
		switch v := v.(type) {
		case []byte:
			*d = append([]byte(nil), v...) // the driver may reuse its buffer
			return nil
		case string:
			*d = []byte(v)
			return nil
		case nil:
			*d = nil
			return nil
		}
	}
	return fmt.Errorf("cannot scan %T into %T", v, dest)
}
