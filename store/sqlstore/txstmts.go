package sqlstore

import (
	"context"
	"database/sql"
)

// txStmts runs a package's queries in one transaction. With prepared
// set, each query is prepared once per transaction and reused, which
// saves SQLite parsing the same text again for every row of a batch;
// without it, each call runs the text directly.
type txStmts struct {
	ctx      context.Context
	tx       *sql.Tx
	s        *Store
	prepared map[query]*sql.Stmt
}

func (t txStmts) stmt(q query) (*sql.Stmt, error) {
	if p := t.prepared[q]; p != nil {
		return p, nil
	}
	p, err := t.tx.PrepareContext(t.ctx, t.s.sql(q))
	if err != nil {
		return nil, err
	}
	t.prepared[q] = p
	return p, nil
}

func (t txStmts) exec(q query, args ...any) (sql.Result, error) {
	if t.prepared == nil {
		return t.tx.ExecContext(t.ctx, t.s.sql(q), args...)
	}
	p, err := t.stmt(q)
	if err != nil {
		return nil, err
	}
	return p.ExecContext(t.ctx, args...)
}

// queryRow runs q with suffix appended (a dialect's LockRows, say);
// prepared statements are only used without one.
func (t txStmts) queryRow(q query, suffix string, args ...any) *sql.Row {
	if t.prepared == nil || suffix != "" {
		return t.tx.QueryRowContext(t.ctx, t.s.sql(q)+suffix, args...)
	}
	p, err := t.stmt(q)
	if err != nil {
		return t.tx.QueryRowContext(t.ctx, t.s.sql(q), args...)
	}
	return p.QueryRowContext(t.ctx, args...)
}

// close closes the statements prepared in the transaction.
func (t txStmts) close() {
	for _, p := range t.prepared {
		p.Close()
	}
}
