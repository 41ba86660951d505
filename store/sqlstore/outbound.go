package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// The outbound queue of the Cloud API. Enqueue is the hot path of
// POST /messages (tens of thousands a second), so it group-commits like
// Deliver: a writer goroutine of its own takes every enqueue waiting and
// commits them in one transaction of three statements (lock the numbers'
// rows where the dialect locks; take sequence numbers from their next_seq
// counters; insert the rows). It shares the write pool with the mailbox
// batcher; on SQLite the two take turns on the single connection.

const outboundColumns = `number, seq, wamid, to_account, type, body, biz_opaque, context_id, category, status, status_rank, error_code, created_at, updated_at`

var (
	bLockNumbers = newLockingBulk(`SELECT id FROM business_numbers WHERE id IN (`, `?`, `) ORDER BY id`)
	bTakeNumSeqs = newBulk(`UPDATE business_numbers SET next_seq = business_numbers.next_seq + v.column2 FROM (VALUES `,
		`(?, CAST(? AS BIGINT))`, `) AS v WHERE business_numbers.id = v.column1 RETURNING business_numbers.id, business_numbers.next_seq`)
	bInsertOutbound = newBulk(`INSERT INTO outbound (`+outboundColumns+`) VALUES `, `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ``)

	qNextOutbound = newQuery(`SELECT ` + outboundColumns + ` FROM outbound WHERE number = ? AND seq > ? ORDER BY seq LIMIT ?`)
	qOutbound     = newQuery(`SELECT ` + outboundColumns + ` FROM outbound WHERE wamid = ?`)
	qSetOutbound  = newQuery(`UPDATE outbound SET status = ?, status_rank = ?, error_code = ?, updated_at = ?
		WHERE wamid = ? AND status_rank < ?`)
	qOutboundExists = newQuery(`SELECT COUNT(*) FROM outbound WHERE wamid = ?`)
	qPurgeOutbound  = newQuery(`DELETE FROM outbound WHERE (number, seq) IN
		(SELECT number, seq FROM outbound WHERE created_at < ? AND status_rank >= 2 LIMIT ?)`)
)

// maxEnqueueBatch is the outbound writer's batch cap.
const maxEnqueueBatch = 512

type enqueueOp struct {
	pending
	o   parley.Outbound // the caller's copy; Seq set by the writer
	err error           // this op's own failure (unknown number)
}

// outboundBatcher is the writer of the outbound queue; see the file doc.
type outboundBatcher struct {
	groupCommit[enqueueOp, *enqueueOp]
	s        *Store
	prepared map[string]*sql.Stmt // owned by the writer goroutine
}

func newOutboundBatcher(s *Store) *outboundBatcher {
	b := &outboundBatcher{s: s, prepared: map[string]*sql.Stmt{}}
	b.start(b.commit, maxEnqueueBatch)
	return b
}

// outbound returns the store's outbound batcher, starting it on first use
// so that stores that never serve the Cloud API run no extra goroutine.
func (s *Store) outbound() *outboundBatcher {
	s.obOnce.Do(func() { s.ob = newOutboundBatcher(s) })
	return s.ob
}

// Enqueue commits o with status accepted and the number's next sequence
// number, through the group commit.
func (s *Store) Enqueue(ctx context.Context, o *parley.Outbound) error {
	if s.closed.Load() {
		return &parley.Error{Code: parley.EUNAVAILABLE, Message: "storage is closed"}
	}
	op := &enqueueOp{o: *o}
	op.o.Status = parley.OutboundAccepted
	if err := s.outbound().do(ctx, op); err != nil {
		return s.wrap("Enqueue", err)
	}
	o.Seq, o.Status = op.o.Seq, op.o.Status
	return nil
}

func (b *outboundBatcher) close() {
	b.groupCommit.close()
	for _, p := range b.prepared {
		p.Close()
	}
}

// commit runs ops in one transaction; when that fails, each alone.
func (b *outboundBatcher) commit(ops []*enqueueOp) {
	if err := b.attempt(ops); err == nil {
		for _, op := range ops {
			op.answer(op.err)
		}
		return
	}
	for _, op := range ops {
		one := []*enqueueOp{op}
		err := b.attempt(one)
		for i := 1; err != nil && i < maxRetries && b.s.d.retryable(err); i++ {
			err = b.attempt(one)
		}
		if err == nil {
			err = op.err
		}
		op.answer(err)
	}
}

func (b *outboundBatcher) attempt(ops []*enqueueOp) error {
	ctx, cancel := b.s.batchContext()
	defer cancel()
	b.prepare(ctx)
	tx, err := b.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := b.apply(ctx, tx, ops); err != nil {
		return err
	}
	return tx.Commit()
}

// apply takes each number's sequence numbers in queue order and inserts
// the rows. Ops for unknown numbers get ENOTFOUND and write nothing.
func (b *outboundBatcher) apply(ctx context.Context, tx *sql.Tx, ops []*enqueueOp) error {
	need := map[string]int64{}
	for _, op := range ops {
		op.err, op.o.Seq = nil, 0
		need[op.o.Number]++
	}
	numbers := make([]string, 0, len(need))
	for n := range need {
		numbers = append(numbers, n)
	}
	slices.Sort(numbers)
	if b.s.d.LockRows != "" {
		ids := make([]any, len(numbers))
		for i, n := range numbers {
			ids[i] = n
		}
		if err := b.queryBulk(ctx, tx, bLockNumbers, ids, func(scanner) error { return nil }); err != nil {
			return err
		}
	}
	args := make([]any, 0, 2*len(numbers))
	for _, n := range numbers {
		args = append(args, n, need[n])
	}
	next := make(map[string]uint64, len(numbers))
	err := b.queryBulk(ctx, tx, bTakeNumSeqs, args, func(r scanner) error {
		var id string
		var after int64
		if err := r.Scan(&id, &after); err != nil {
			return err
		}
		next[id] = uint64(after - need[id])
		return nil
	})
	if err != nil {
		return err
	}
	rows := make([]any, 0, 14*len(ops))
	for _, op := range ops {
		o := &op.o
		seq, ok := next[o.Number]
		if !ok {
			op.err = parley.Errorf(parley.ENOTFOUND, "phone number %s not found", o.Number)
			op.err.(*parley.Error).Reason = parley.ReasonObject
			continue
		}
		o.Seq = seq
		next[o.Number] = seq + 1
		rows = append(rows, o.Number, int64(o.Seq), o.WAMID, o.To, o.Type, string(o.Body), o.BizOpaque, o.ContextID, o.Category,
			o.Status, int64(parley.OutboundRank(o.Status)), int64(o.ErrorCode), micros(o.CreatedAt), micros(o.CreatedAt))
	}
	return b.execBulk(ctx, tx, bInsertOutbound, rows)
}

// stmt returns text as a statement of tx, prepared once on the pool.
func (b *outboundBatcher) stmt(ctx context.Context, tx *sql.Tx, text string) (*sql.Stmt, error) {
	if p := b.prepared[text]; p != nil {
		return tx.StmtContext(ctx, p), nil
	}
	return tx.PrepareContext(ctx, text)
}

// prepare prepares the texts this batcher uses, outside a transaction
// (SQLite's pool has one connection, which the transaction holds).
func (b *outboundBatcher) prepare(ctx context.Context) {
	if len(b.prepared) > 0 {
		return
	}
	for _, bk := range []bulk{bLockNumbers, bTakeNumSeqs, bInsertOutbound} {
		for _, text := range b.s.texts.bulks[bk.id] {
			if p, err := b.s.w.PrepareContext(ctx, text); err == nil {
				b.prepared[text] = p
			}
		}
	}
}

func (b *outboundBatcher) execBulk(ctx context.Context, tx *sql.Tx, bk bulk, rows []any) error {
	return b.s.eachChunk(bk, nil, rows, func(text string, args []any) error {
		st, err := b.stmt(ctx, tx, text)
		if err != nil {
			return err
		}
		_, err = st.ExecContext(ctx, args...)
		return err
	})
}

func (b *outboundBatcher) queryBulk(ctx context.Context, tx *sql.Tx, bk bulk, rows []any, scan func(scanner) error) error {
	return b.s.eachChunk(bk, nil, rows, func(text string, args []any) error {
		st, err := b.stmt(ctx, tx, text)
		if err != nil {
			return err
		}
		r, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		return scanAll(r, scan)
	})
}

func scanOutbound(r scanner) (*parley.Outbound, error) {
	var o parley.Outbound
	var seq, rank, code, created, updated int64
	var body string
	if err := r.Scan(&o.Number, &seq, &o.WAMID, &o.To, &o.Type, &body, &o.BizOpaque, &o.ContextID, &o.Category,
		&o.Status, &rank, &code, &created, &updated); err != nil {
		return nil, err
	}
	o.Seq, o.Body, o.ErrorCode = uint64(seq), []byte(body), int(code)
	o.CreatedAt, o.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &o, nil
}

// NextOutbound returns up to limit messages of number after afterSeq.
func (s *Store) NextOutbound(ctx context.Context, number string, afterSeq uint64, limit int) ([]parley.Outbound, error) {
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.r.QueryContext(ctx, s.sql(qNextOutbound), number, int64(afterSeq), limit)
	if err != nil {
		return nil, s.wrap("NextOutbound", err)
	}
	var out []parley.Outbound
	err = scanAll(rows, func(r scanner) error {
		o, err := scanOutbound(r)
		if err == nil {
			out = append(out, *o)
		}
		return err
	})
	if err != nil {
		return nil, s.wrap("NextOutbound", err)
	}
	return out, nil
}

// Outbound returns one queued message.
func (s *Store) Outbound(ctx context.Context, wamid string) (*parley.Outbound, error) {
	o, err := scanOutbound(s.r.QueryRowContext(ctx, s.sql(qOutbound), wamid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, s.notFound("Outbound", "message %s not found", wamid)
	}
	if err != nil {
		return nil, s.wrap("Outbound", err)
	}
	return o, nil
}

// SetOutboundStatus moves a message's status forward.
func (s *Store) SetOutboundStatus(ctx context.Context, wamid, status string, errorCode int, at time.Time) (bool, error) {
	rank := parley.OutboundRank(status)
	if rank == 0 {
		return false, &parley.Error{Code: parley.EINVALID, Op: s.op("SetOutboundStatus"), Message: "unknown status " + status}
	}
	res, err := s.w.ExecContext(ctx, s.sql(qSetOutbound), status, int64(rank), int64(errorCode), micros(at), wamid, int64(rank))
	if err != nil {
		return false, s.wrap("SetOutboundStatus", err)
	}
	changed, err := rowsAffected(res)
	if err != nil {
		return false, s.wrap("SetOutboundStatus", err)
	}
	if !changed {
		var n int
		if err := s.w.QueryRowContext(ctx, s.sql(qOutboundExists), wamid).Scan(&n); err != nil {
			return false, s.wrap("SetOutboundStatus", err)
		}
		if n == 0 {
			return false, s.notFound("SetOutboundStatus", "message %s not found", wamid)
		}
	}
	return changed, nil
}

// SetOutboundStatuses moves messages forward in one transaction, with
// one prepared statement.
func (s *Store) SetOutboundStatuses(ctx context.Context, os []parley.Outbound) error {
	for i := range os {
		if parley.OutboundRank(os[i].Status) == 0 {
			return &parley.Error{Code: parley.EINVALID, Op: s.op("SetOutboundStatuses"), Message: "unknown status " + os[i].Status}
		}
	}
	if len(os) == 0 {
		return nil
	}
	return s.writeTx(ctx, "SetOutboundStatuses", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, s.sql(qSetOutbound))
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range os {
			o := &os[i]
			rank := int64(parley.OutboundRank(o.Status))
			if _, err := st.ExecContext(ctx, o.Status, rank, int64(o.ErrorCode), micros(o.UpdatedAt), o.WAMID, rank); err != nil {
				return err
			}
		}
		return nil
	})
}

// PurgeOutbound deletes finished messages created before the time.
func (s *Store) PurgeOutbound(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.w.ExecContext(ctx, s.sql(qPurgeOutbound), micros(before), purgeSlice)
		if err != nil {
			return total, s.wrap("PurgeOutbound", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, s.wrap("PurgeOutbound", err)
		}
		total += n
		if n < purgeSlice {
			return total, nil
		}
	}
}

var _ parley.OutboundQueue = (*Store)(nil)
