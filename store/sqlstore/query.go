package sqlstore

import (
	"context"
	"database/sql"
	"math/bits"
	"slices"
	"strings"
)

// query names a statement written with ? placeholders. Statements are
// declared as package variables, one file per aggregate, and rebound for
// the dialect once, when a Store is built.
type query int

var queryTexts []string

func newQuery(text string) query {
	queryTexts = append(queryTexts, text)
	return query(len(queryTexts) - 1)
}

// bulk is a statement whose middle part repeats once per row: a multi-row
// INSERT ... VALUES, an IN (VALUES ...) list or an UPDATE ... FROM
// (VALUES ...). It runs over any number of rows in chunks whose sizes are
// powers of two up to maxChunk, so that each bulk statement has at most
// maxChunkLog+1 distinct texts: few enough to keep them all prepared.
type bulk struct {
	id    int
	fixed int // placeholders in the head, bound before the rows
	width int // placeholders per row
}

type bulkDef struct {
	head, row, tail string
	lockRows        bool // append the dialect's LockRows
	lockNoWait      bool // append the dialect's LockRowsNoWait
}

var bulkDefs []bulkDef

const (
	maxChunkLog = 7
	maxChunk    = 1 << maxChunkLog // rows per statement; 128×13 placeholders stays far below both databases' limits
)

func newBulk(head, row, tail string) bulk {
	bulkDefs = append(bulkDefs, bulkDef{head: head, row: row, tail: tail})
	return bulk{id: len(bulkDefs) - 1, fixed: strings.Count(head, "?"), width: strings.Count(row, "?")}
}

// newLockingBulk is newBulk for a SELECT that locks the rows it reads.
func newLockingBulk(head, row, tail string) bulk {
	b := newBulk(head, row, tail)
	bulkDefs[b.id].lockRows = true
	return b
}

// newNoWaitBulk is newBulk for a SELECT that locks the rows it reads
// unless one is locked already (Dialect.LockRowsNoWait).
func newNoWaitBulk(head, row, tail string) bulk {
	b := newBulk(head, row, tail)
	bulkDefs[b.id].lockNoWait = true
	return b
}

// texts holds a Store's statements rebound for its dialect.
type texts struct {
	queries []string
	bulks   [][maxChunkLog + 1]string // by bulk id, by log2 of the row count
}

func newTexts(d *Dialect) texts {
	t := texts{
		queries: make([]string, len(queryTexts)),
		bulks:   make([][maxChunkLog + 1]string, len(bulkDefs)),
	}
	for i, q := range queryTexts {
		t.queries[i] = d.rebind(q)
	}
	for i, b := range bulkDefs {
		tail := b.tail
		if b.lockRows {
			tail += d.LockRows
		}
		if b.lockNoWait {
			tail += d.LockRowsNoWait
		}
		for k := range maxChunkLog + 1 {
			rows := strings.Repeat(b.row+", ", 1<<k)
			t.bulks[i][k] = d.rebind(b.head + rows[:len(rows)-2] + tail)
		}
	}
	return t
}

// eachChunk calls fn with the text and arguments of b for consecutive
// runs of rows, largest first, each a power of two of at most maxChunk
// rows. rows holds b.width values per row; fixed are the head's values.
func (s *Store) eachChunk(b bulk, fixed, rows []any, fn func(text string, args []any) error) error {
	n := len(rows) / b.width
	for start := 0; start < n; {
		k := min(bits.Len(uint(n-start))-1, maxChunkLog)
		args := rows[start*b.width : (start+1<<k)*b.width]
		if len(fixed) > 0 {
			args = append(append(make([]any, 0, len(fixed)+len(args)), fixed...), args...)
		}
		if err := fn(s.texts.bulks[b.id][k], args); err != nil {
			return err
		}
		start += 1 << k
	}
	return nil
}

// execBulk runs b over rows within t and returns the rows affected.
func (s *Store) execBulk(t wtx, b bulk, rows []any) (int64, error) {
	var n int64
	err := s.eachChunk(b, nil, rows, func(text string, args []any) error {
		c, err := t.exec(text, args)
		n += c
		return err
	})
	return n, err
}

// queryBulk runs b over rows within t and calls scan for every result.
func (s *Store) queryBulk(t wtx, b bulk, rows []any, scan func(scanner) error) error {
	return s.eachChunk(b, nil, rows, func(text string, args []any) error {
		return t.query(text, args, scan)
	})
}

func scanAll(r *sql.Rows, scan func(scanner) error) error {
	defer r.Close()
	for r.Next() {
		if err := scan(r); err != nil {
			return err
		}
	}
	return r.Err()
}

// stmt returns text as a statement of tx. The writer prepares every bulk
// text on the write pool before its first transaction (prepareBulk), so
// that here it is only bound to the transaction's connection; a text
// that could not be prepared then is prepared within tx.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, text string) (*sql.Stmt, error) {
	if m := s.prepared.Load(); m != nil {
		if p := (*m)[text]; p != nil {
			return tx.StmtContext(ctx, p), nil
		}
	}
	return tx.PrepareContext(ctx, text)
}

// batchQueries are the statements other than bulks that a batch may
// run; prepareBulk prepares them too.
var batchQueries = []query{qSpans, qSetSpanBody, qDeleteSpanItem, qDeleteRun, qDeleteKnownRun}

// batchBulks are the bulks that only the mailbox batch runs prepared.
var batchBulks = []bulk{bLockDevices, bLockLateDevices, bInsertKeys, bInsertNewKeys, bFindKeys, bTakeSeqs, bInsertItems, bInsertMessages, bDeleteItems,
	bActiveDevices, bInsertSpans, bDeleteKnownRuns, bDeleteRuns, bSpans, bDeleteSpanRows}

// remoteBulks are the batch's bulks that only a dialect without
// LocalWrites runs, to save round trips (bDeleteRuns); on SQLite a
// statement per run or row costs less, and it has no DELETE ... USING.
var remoteBulks = []bulk{bDeleteKnownRuns, bDeleteRuns, bSpans, bDeleteSpanRows}

// prepareBulk prepares every bulk text, and batchQueries, on the write pool. It must run
// outside a transaction: on SQLite the pool's only connection would be
// taken. It is called by the writer goroutine only. Where the batch runs
// on a batch connection (which prepares its own), the batch's statements
// are left out: on the pool they would be a second, unused copy.
func (s *Store) prepareBulk(ctx context.Context) {
	if s.prepared.Load() != nil {
		return
	}
	m := make(map[string]*sql.Stmt, len(s.texts.bulks)*(maxChunkLog+1)+len(batchQueries))
	all := make([][]string, 0, len(s.texts.bulks)+1)
	for id, ts := range s.texts.bulks {
		if s.b.own && slices.ContainsFunc(batchBulks, func(b bulk) bool { return b.id == id }) {
			continue
		}
		all = append(all, ts[:])
	}
	one := make([]string, 0, len(batchQueries))
	if !s.b.own {
		for _, q := range batchQueries {
			one = append(one, s.sql(q))
		}
	}
	for _, ts := range append(all, one) {
		for _, text := range ts {
			p, err := s.w.PrepareContext(ctx, text)
			if err != nil {
				for _, p := range m {
					p.Close()
				}
				return // try again before the next batch; until then stmt prepares within the transaction
			}
			m[text] = p
		}
	}
	s.prepared.Store(&m)
}
