package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// The webhook outbox. Events are rows of webhook_events (on PostgreSQL
// keyed by (endpoint, okey, seq) since migration 0018; on SQLite a rowid
// table with an index on the same columns); each (endpoint, okey) with
// open events has one row in webhook_queues, and that row is what
// dispatchers claim, lease and settle:
//
//   - Enqueue (in the producer's transaction: the batcher's, or any other
//     through enqueueWebhooksTx) inserts the events and adds their number
//     to their queues' open_events, creating a queue due at once.
//   - Claim leases due queues (due_at <= now): due_at becomes the end of
//     the lease and lease a new token. On PostgreSQL the queues are picked
//     FOR UPDATE SKIP LOCKED, so dispatchers of several nodes take
//     different ones; SQLite has one writer. Then it reads the first
//     events of each claimed queue, by seq.
//   - Settle deletes the delivered events and, if the lease is still the
//     claim's, marks the failed one for a retry (due_at = the retry time)
//     or dead, and releases the lease (due at once when events are left).
//     open_events drops by the rows actually deleted or killed, so a
//     settle whose lease was lost (another node redelivered meanwhile)
//     cannot count an event twice. A queue left with none is deleted.
//
// Ordering: a claim returns only the head of each queue, and a queue is
// never claimed twice at once, so the events of one key are sent one after
// another in seq order. PostgreSQL assigns seq when the row is inserted,
// not when it commits: events of one key enqueued by two transactions
// running at the same time may be sent in either order (neither happened
// first); an event committed before another was enqueued always goes
// first.
//
// Races on PostgreSQL: producers and settles change open_events on the
// queue row itself, under its row lock, and the deletion of an empty
// queue re-checks open_events = 0 on the row; an enqueue racing that
// deletion (INSERT ... ON CONFLICT) either updates the row first, so it
// is not deleted, or waits and inserts a new one. No event is ever left
// without a queue.

const (
	webhookOpen = 0
	webhookDead = 2
)

var (
	bInsertWebhooks = newBulk(`INSERT INTO webhook_events (id, endpoint, okey, body, created_at, enqueued_at) VALUES `,
		`(?, ?, ?, ?, ?, ?)`, ` ON CONFLICT (endpoint, okey, id) DO NOTHING RETURNING endpoint, okey`)
	// Adds events to queues (rows sorted by endpoint, okey, so that
	// transactions lock queue rows in one order); a queue that was idle
	// becomes due.
	bAddToQueues = newBulk(`INSERT INTO webhook_queues (endpoint, okey, open_events, due_at) VALUES `,
		`(?, ?, ?, ?)`, ` ON CONFLICT (endpoint, okey) DO UPDATE SET
		open_events = webhook_queues.open_events + excluded.open_events,
		due_at = CASE WHEN webhook_queues.open_events = 0 OR webhook_queues.due_at = 0 THEN excluded.due_at ELSE webhook_queues.due_at END`)

	qAnyWebhookDue = newQuery(`SELECT 1 FROM webhook_queues WHERE due_at <> 0 AND due_at <= ? LIMIT 1`)
	// {skip} is the dialect's SkipLocked.
	claimWebhookQueues = `UPDATE webhook_queues SET due_at = ?, lease = ?
		WHERE (endpoint, okey) IN (SELECT endpoint, okey FROM webhook_queues WHERE due_at <> 0 AND due_at <= ?
			ORDER BY due_at LIMIT ?{skip})
		RETURNING endpoint, okey`
	// The first events of claimed queues (PostgreSQL); the head binds the
	// limit. The window runs over the primary key (endpoint, okey, seq), and only
	// the rows it keeps are read whole: a queue with a long backlog costs
	// an index range, not a copy of every body.
	bQueueHeads = newBulk(`WITH lim (n) AS (SELECT CAST(? AS BIGINT))
		SELECT e.seq, e.id, e.endpoint, e.okey, e.body, e.attempts, e.last_error, e.created_at, e.enqueued_at
		FROM (SELECT w.endpoint, w.okey, w.seq, ROW_NUMBER() OVER (PARTITION BY w.endpoint, w.okey ORDER BY w.seq) AS rn
			FROM webhook_events w WHERE w.state = 0 AND (w.endpoint, w.okey) IN (VALUES `, `(?, ?)`,
		`)) x JOIN lim ON x.rn <= lim.n JOIN webhook_events e ON e.endpoint = x.endpoint AND e.okey = x.okey AND e.seq = x.seq
		ORDER BY e.endpoint, e.okey, e.seq`)

	qQueueHead = newQuery(`SELECT seq, id, endpoint, okey, body, attempts, last_error, created_at, enqueued_at
		FROM webhook_events WHERE state = 0 AND endpoint = ? AND okey = ? ORDER BY seq LIMIT ?`)

	// Settling.
	bLockQueues = newLockingBulk(`SELECT endpoint, okey, lease FROM webhook_queues WHERE (endpoint, okey) IN (VALUES `,
		`(?, ?)`, `) ORDER BY endpoint, okey`)
	// Event ids are unique per queue (migration 0023): delivered events
	// are found by queue and id, a queue's ids being neighbours in the
	// index.
	bDeleteWebhooks = newBulk(`DELETE FROM webhook_events WHERE state = 0 AND (endpoint, okey, id) IN (VALUES `, `(?, ?, ?)`,
		`) RETURNING endpoint, okey`)
	qRetryWebhook = newQuery(`UPDATE webhook_events SET attempts = attempts + 1, last_error = ?
		WHERE endpoint = ? AND okey = ? AND id = ? AND state = 0`)
	qKillWebhook = newQuery(`UPDATE webhook_events SET attempts = attempts + 1, last_error = ?, state = 2, dead_at = ?
		WHERE endpoint = ? AND okey = ? AND id = ? AND state = 0 RETURNING endpoint, okey`)
	// Per queue: events gone, whether the lease is still ours (1), and
	// when the queue is due next if it is.
	bReleaseQueues = newBulk(`UPDATE webhook_queues SET open_events = webhook_queues.open_events - v.column3,
		due_at = CASE WHEN v.column4 = 1 THEN v.column5 ELSE webhook_queues.due_at END,
		lease = CASE WHEN v.column4 = 1 THEN '' ELSE webhook_queues.lease END
		FROM (VALUES `, `(?, ?, CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))`,
		`) AS v WHERE webhook_queues.endpoint = v.column1 AND webhook_queues.okey = v.column2`)
	bDropEmptyQueues = newBulk(`DELETE FROM webhook_queues WHERE open_events <= 0 AND (endpoint, okey) IN (VALUES `, `(?, ?)`, `)`)

	// The operator's.
	qDeadWebhooks = newQuery(`SELECT seq, id, endpoint, okey, body, attempts, last_error, created_at, enqueued_at, dead_at
		FROM webhook_events WHERE state = 2 AND seq > ? AND (? = '' OR endpoint = ?) ORDER BY seq LIMIT ?`)
	qDeadSlice      = newQuery(`SELECT seq, id FROM webhook_events WHERE state = 2 AND seq > ? ORDER BY seq LIMIT ?`)
	bReplayWebhooks = newBulk(`UPDATE webhook_events SET state = 0, attempts = 0, last_error = '', dead_at = 0, enqueued_at = ?
		WHERE state = 2 AND id IN (`, `?`, `) RETURNING endpoint, okey`)
	qOpenWebhooks  = newQuery(`SELECT COALESCE(SUM(open_events), 0) FROM webhook_queues`)
	qDeadCount     = newQuery(`SELECT COUNT(*) FROM webhook_events WHERE state = 2`)
	qPurgeWebhooks = newQuery(`DELETE FROM webhook_events WHERE state = 2 AND seq IN
		(SELECT seq FROM webhook_events WHERE state = 2 AND dead_at < ? LIMIT ?)`)
)

type queueKey struct{ endpoint, key string }

func compareQueueKeys(a, b queueKey) int {
	return cmp.Or(cmp.Compare(a.endpoint, b.endpoint), cmp.Compare(a.key, b.key))
}

// sortedQueues returns the keys of m in order.
func sortedQueues[V any](m map[queueKey]V) []queueKey {
	keys := make([]queueKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, compareQueueKeys)
	return keys
}

// prepareWebhooks validates events and fills in missing ids and times,
// in a copy, before they are queued, so that every run of a batch
// inserts the same ids.
func prepareWebhooks(events []parley.WebhookEvent) ([]parley.WebhookEvent, error) {
	if len(events) == 0 {
		return nil, nil
	}
	out := slices.Clone(events)
	now := time.Now()
	for i := range out {
		e := &out[i]
		if e.ID == "" {
			e.ID = parley.NewWebhookID()
		}
		if e.CreatedAt.IsZero() {
			e.CreatedAt = now
		}
		if err := e.Validate(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// EnqueueWebhooks commits events through the batcher: one group commit
// with whatever else is queued (see parley.WebhookOutbox).
func (s *Store) EnqueueWebhooks(ctx context.Context, events []parley.WebhookEvent) error {
	ws, err := prepareWebhooks(events)
	if err != nil {
		return s.wrap("EnqueueWebhooks", err)
	}
	if len(ws) == 0 {
		return nil
	}
	// A delivery with no items and no key writes nothing but its webhooks.
	o := &op{deliver: true, webhooks: ws}
	if err := s.b.do(ctx, o); err != nil {
		return s.wrap("EnqueueWebhooks", err)
	}
	return nil
}

// OnWebhooks sets fn to be called, without blocking the writer for
// long, after every batch transaction that committed webhook events
// (EnqueueWebhooks, Delivery.Webhooks): the node's dispatcher wakes up
// instead of waiting for its next poll.
func (s *Store) OnWebhooks(fn func()) { s.onWebhooks.Store(&fn) }

// notifyWebhooks calls the OnWebhooks function if ops committed events.
func (s *Store) notifyWebhooks(ops []*op) {
	for _, o := range ops {
		if o.err == nil && !o.duplicate && len(o.webhooks) > 0 {
			s.webhooksCommitted()
			return
		}
	}
}

// webhooksCommitted calls the OnWebhooks function. A writer that called
// enqueueWebhooksTx calls it after its transaction committed.
func (s *Store) webhooksCommitted() {
	if fn := s.onWebhooks.Load(); fn != nil {
		(*fn)()
	}
}

// enqueueWebhooksTx adds events to the outbox within tx. Any write
// transaction of this package may call it, so that a state change and its
// webhooks commit together (then it calls webhooksCommitted). Events
// without an id or time get them here; a caller that may run its
// transaction again fills them first (prepareWebhooks), so that every run
// inserts the same ids.
func (s *Store) enqueueWebhooksTx(t wtx, events []parley.WebhookEvent) error {
	if len(events) == 0 {
		return nil
	}
	events, err := prepareWebhooks(events)
	if err != nil {
		return err
	}
	rows := make([]any, 0, 6*len(events))
	type eventKey struct {
		queueKey
		id string
	}
	seen := make(map[eventKey]bool, len(events))
	due := make(map[queueKey]int64)
	for _, e := range events {
		k := queueKey{e.Endpoint, e.Key}
		if seen[eventKey{k, e.ID}] {
			continue
		}
		seen[eventKey{k, e.ID}] = true
		at := micros(e.CreatedAt)
		rows = append(rows, e.ID, e.Endpoint, e.Key, e.Body, at, at)
		if d, ok := due[k]; !ok || at < d {
			due[k] = at
		}
	}
	added := make(map[queueKey]int64)
	err = s.queryBulk(t, bInsertWebhooks, rows, func(r scanner) error {
		var k queueKey
		if err := r.Scan(&k.endpoint, &k.key); err != nil {
			return err
		}
		added[k]++
		return nil
	})
	if err != nil {
		return err
	}
	return s.addToQueues(t, added, func(k queueKey) int64 { return due[k] })
}

// addToQueues adds n[k] open events to each queue k, making idle or new
// queues due at due(k).
func (s *Store) addToQueues(t wtx, n map[queueKey]int64, due func(queueKey) int64) error {
	if len(n) == 0 {
		return nil
	}
	rows := make([]any, 0, 4*len(n))
	for _, k := range sortedQueues(n) {
		rows = append(rows, k.endpoint, k.key, n[k], due(k))
	}
	_, err := s.execBulk(t, bAddToQueues, rows)
	return err
}

// batchWebhooks enqueues, within a batch transaction, the webhooks of
// the ops that commit (not failed, not duplicates), in queue order.
func (s *Store) batchWebhooks(t wtx, ops []*op) error {
	var events []parley.WebhookEvent
	for _, o := range ops {
		if o.err != nil || o.duplicate || len(o.webhooks) == 0 {
			continue
		}
		events = append(events, o.webhooks...)
	}
	return s.enqueueWebhooksTx(t, events)
}

// ClaimWebhooks leases due queues and returns their first events (see
// parley.WebhookOutbox).
func (s *Store) ClaimWebhooks(ctx context.Context, c parley.WebhookClaim) ([]parley.WebhookQueue, error) {
	const name = "ClaimWebhooks"
	if c.Queues <= 0 || c.PerQueue <= 0 || c.Lease == "" || !c.LeaseUntil.After(c.Now) {
		return nil, &parley.Error{Code: parley.EINVALID, Op: s.op(name), Message: "a claim needs queues, events per queue, a lease token and a lease in the future"}
	}
	// Idle is the common case: ask the read pool first, so that polling
	// dispatchers do not take the (on SQLite, only) write connection.
	var one int
	err := s.r.QueryRowContext(ctx, s.sql(qAnyWebhookDue), micros(c.Now)).Scan(&one)
	if err == sql.ErrNoRows {
		return nil, nil
	} else if err != nil {
		return nil, s.wrap(name, err)
	}
	var queues []parley.WebhookQueue
	heads := queueHeads{until: c.LeaseUntil}
	err = s.writeTx(ctx, name, func(tx *sql.Tx) error {
		queues = queues[:0]
		text := s.d.rebind(strings.Replace(claimWebhookQueues, "{skip}", s.d.SkipLocked, 1))
		r, err := tx.QueryContext(ctx, text, micros(c.LeaseUntil), c.Lease, micros(c.Now), c.Queues)
		if err != nil {
			return err
		}
		var keys []any
		err = scanAll(r, func(r scanner) error {
			var q parley.WebhookQueue
			if err := r.Scan(&q.Endpoint, &q.Key); err != nil {
				return err
			}
			q.Lease = c.Lease
			queues = append(queues, q)
			keys = append(keys, q.Endpoint, q.Key)
			return nil
		})
		if err != nil || len(queues) == 0 {
			return err
		}
		slices.SortFunc(queues, func(a, b parley.WebhookQueue) int {
			return compareQueueKeys(queueKey{a.Endpoint, a.Key}, queueKey{b.Endpoint, b.Key})
		})
		heads.queues, heads.index = queues, make(map[queueKey]int, len(queues))
		for i, q := range queues {
			heads.index[queueKey{q.Endpoint, q.Key}] = i
		}
		if s.d.LockRows == "" {
			return nil // SQLite: the heads are read below, after the commit
		}
		return s.eachChunk(bQueueHeads, []any{int64(c.PerQueue)}, keys, func(text string, args []any) error {
			stmt, err := s.stmt(ctx, tx, text)
			if err != nil {
				return err
			}
			r, err := stmt.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			return scanAll(r, heads.scan)
		})
	})
	if err == nil && s.d.LockRows == "" && len(queues) > 0 {
		err = s.readQueueHeads(ctx, queues, c.PerQueue, heads.scan)
	}
	if err != nil {
		return nil, err
	}
	// A queue row without open events cannot be claimed (it is deleted
	// when it empties); drop any anyway rather than hand out nothing.
	return slices.DeleteFunc(queues, func(q parley.WebhookQueue) bool { return len(q.Events) == 0 }), nil
}

// queueHeads collects the events a claim reads into its queues.
type queueHeads struct {
	queues []parley.WebhookQueue // claimed, sorted; scan fills their events
	index  map[queueKey]int
	until  time.Time
}

func (h *queueHeads) scan(r scanner) error {
	var e parley.WebhookEvent
	var created, enqueued int64
	if err := r.Scan(&e.Seq, &e.ID, &e.Endpoint, &e.Key, &e.Body, &e.Attempts, &e.LastError, &created, &enqueued); err != nil {
		return err
	}
	e.CreatedAt, e.EnqueuedAt = fromMicros(created), fromMicros(enqueued)
	e.State, e.NextAttempt = parley.WebhookDelivering, h.until
	i, ok := h.index[queueKey{e.Endpoint, e.Key}]
	if !ok {
		return nil
	}
	h.queues[i].Events = append(h.queues[i].Events, e)
	return nil
}

// readQueueHeads reads the first perQueue open events of each queue, on
// SQLite, in one read transaction of the read pool after the claim's
// lease committed: the single writer only marks the queues leased, and
// reading the bodies (most of a claim's work) runs beside it. In-process,
// one small indexed query per queue, which stops after perQueue rows,
// costs less than PostgreSQL's window over every queue's backlog (there
// a query per queue would be a round trip each). The heads cannot move
// meanwhile: only the lease's holder deletes or fails a queue's open
// events (a settle of an earlier, expired lease may still delete events
// it delivered, and then they are sent twice, as when that settle comes
// after the claim's transaction); what is enqueued meanwhile goes after
// them, and an event an operator replays meanwhile is an open event of
// the queue like any other. If the read fails, the claimed queues stay
// leased until their lease ends and are due again then, as when a
// dispatcher dies.
func (s *Store) readQueueHeads(ctx context.Context, queues []parley.WebhookQueue, perQueue int, scan func(scanner) error) error {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return s.wrap("ClaimWebhooks", err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, s.sql(qQueueHead))
	if err != nil {
		return s.wrap("ClaimWebhooks", err)
	}
	defer stmt.Close()
	for _, q := range queues {
		r, err := stmt.QueryContext(ctx, q.Endpoint, q.Key, perQueue)
		if err != nil {
			return s.wrap("ClaimWebhooks", err)
		}
		if err := scanAll(r, scan); err != nil {
			return s.wrap("ClaimWebhooks", err)
		}
	}
	return nil
}

// SettleWebhooks applies claim results in one transaction (see
// parley.WebhookOutbox).
func (s *Store) SettleWebhooks(ctx context.Context, results []parley.WebhookResult) error {
	if len(results) == 0 {
		return nil
	}
	return s.writeTx(ctx, "SettleWebhooks", func(tx *sql.Tx) error {
		byQueue := make(map[queueKey]*parley.WebhookResult, len(results))
		var keys, ids []any
		for i := range results {
			r := &results[i]
			k := queueKey{r.Endpoint, r.Key}
			if _, ok := byQueue[k]; ok {
				return parley.Errorf(parley.EINVALID, "two results for one queue")
			}
			byQueue[k] = r
			for _, id := range r.Delivered {
				ids = append(ids, r.Endpoint, r.Key, id)
			}
		}
		for _, k := range sortedQueues(byQueue) {
			keys = append(keys, k.endpoint, k.key)
		}
		// Lock the queues (PostgreSQL) and learn whose leases still hold.
		held := make(map[queueKey]bool, len(byQueue))
		err := s.queryBulk(s.txOf(ctx, tx), bLockQueues, keys, func(sc scanner) error {
			var k queueKey
			var lease string
			if err := sc.Scan(&k.endpoint, &k.key, &lease); err != nil {
				return err
			}
			held[k] = lease != "" && lease == byQueue[k].Lease
			return nil
		})
		if err != nil {
			return err
		}
		gone := make(map[queueKey]int64, len(byQueue))
		count := func(sc scanner) error {
			var k queueKey
			if err := sc.Scan(&k.endpoint, &k.key); err != nil {
				return err
			}
			gone[k]++
			return nil
		}
		if err := s.queryBulk(s.txOf(ctx, tx), bDeleteWebhooks, ids, count); err != nil {
			return err
		}
		for k, r := range byQueue {
			if !held[k] || r.Failed == "" {
				continue
			}
			if r.Dead {
				rows, err := tx.QueryContext(ctx, s.sql(qKillWebhook), r.Error, micros(r.At), r.Endpoint, r.Key, r.Failed)
				if err != nil {
					return err
				}
				if err := scanAll(rows, count); err != nil {
					return err
				}
			} else if _, err := tx.ExecContext(ctx, s.sql(qRetryWebhook), r.Error, r.Endpoint, r.Key, r.Failed); err != nil {
				return err
			}
		}
		rows := make([]any, 0, 5*len(byQueue))
		for _, k := range sortedQueues(byQueue) {
			r := byQueue[k]
			ours, next := int64(0), int64(0)
			if held[k] {
				ours, next = 1, micros(r.At)
				if r.Failed != "" && !r.Dead {
					next = micros(r.RetryAt)
				}
				if next == 0 {
					next = micros(time.Now())
				}
			}
			rows = append(rows, k.endpoint, k.key, gone[k], ours, next)
		}
		if _, err := s.execBulk(s.txOf(ctx, tx), bReleaseQueues, rows); err != nil {
			return err
		}
		_, err = s.execBulk(s.txOf(ctx, tx), bDropEmptyQueues, keys)
		return err
	})
}

// DeadWebhooks lists dead events by seq.
func (s *Store) DeadWebhooks(ctx context.Context, f parley.WebhookFilter) ([]parley.WebhookEvent, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.r.QueryContext(ctx, s.sql(qDeadWebhooks), f.After, f.Endpoint, f.Endpoint, limit)
	if err != nil {
		return nil, s.wrap("DeadWebhooks", err)
	}
	var out []parley.WebhookEvent
	err = scanAll(rows, func(r scanner) error {
		var e parley.WebhookEvent
		var created, enqueued, dead int64
		if err := r.Scan(&e.Seq, &e.ID, &e.Endpoint, &e.Key, &e.Body, &e.Attempts, &e.LastError, &created, &enqueued, &dead); err != nil {
			return err
		}
		e.State = parley.WebhookDead
		e.CreatedAt, e.EnqueuedAt, e.NextAttempt = fromMicros(created), fromMicros(enqueued), fromMicros(dead)
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, s.wrap("DeadWebhooks", err)
	}
	return out, nil
}

const replaySlice = 500

// ReplayWebhooks makes dead events pending again (see
// parley.WebhookOutbox). Replaying every dead event runs in slices of
// replaySlice events, each its own transaction.
func (s *Store) ReplayWebhooks(ctx context.Context, ids []string, now time.Time) (int, error) {
	const name = "ReplayWebhooks"
	if ids != nil {
		n := 0
		for chunk := range slices.Chunk(ids, replaySlice) {
			c, err := s.replay(ctx, chunk, now)
			n += c
			if err != nil {
				return n, s.wrap(name, err)
			}
		}
		return n, nil
	}
	n := 0
	var after int64 // replayed events keep their seq: the scan moves on past them
	for {
		var slice []string
		rows, err := s.r.QueryContext(ctx, s.sql(qDeadSlice), after, replaySlice)
		if err != nil {
			return n, s.wrap(name, err)
		}
		err = scanAll(rows, func(r scanner) error {
			var id string
			if err := r.Scan(&after, &id); err != nil {
				return err
			}
			slice = append(slice, id)
			return nil
		})
		if err != nil {
			return n, s.wrap(name, err)
		}
		if len(slice) == 0 {
			return n, nil
		}
		c, err := s.replay(ctx, slice, now)
		n += c
		if err != nil {
			return n, s.wrap(name, err)
		}
	}
}

func (s *Store) replay(ctx context.Context, ids []string, now time.Time) (int, error) {
	var n int
	err := s.writeTx(ctx, "ReplayWebhooks", func(tx *sql.Tx) error {
		n = 0
		added := make(map[queueKey]int64)
		err := s.eachChunk(bReplayWebhooks, []any{micros(now)}, anys(ids), func(text string, args []any) error {
			stmt, err := s.stmt(ctx, tx, text)
			if err != nil {
				return err
			}
			r, err := stmt.QueryContext(ctx, args...)
			if err != nil {
				return err
			}
			return scanAll(r, func(r scanner) error {
				var k queueKey
				if err := r.Scan(&k.endpoint, &k.key); err != nil {
					return err
				}
				added[k]++
				n++
				return nil
			})
		})
		if err != nil {
			return err
		}
		return s.addToQueues(s.txOf(ctx, tx), added, func(queueKey) int64 { return micros(now) })
	})
	return n, err
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// WebhookDepth counts open and dead events.
func (s *Store) WebhookDepth(ctx context.Context) (open, dead int64, err error) {
	if err := s.r.QueryRowContext(ctx, s.sql(qOpenWebhooks)).Scan(&open); err != nil {
		return 0, 0, s.wrap("WebhookDepth", err)
	}
	if err := s.r.QueryRowContext(ctx, s.sql(qDeadCount)).Scan(&dead); err != nil {
		return 0, 0, s.wrap("WebhookDepth", err)
	}
	return open, dead, nil
}

// PurgeWebhooks deletes dead events that died before before, in slices.
func (s *Store) PurgeWebhooks(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	for {
		res, err := s.w.ExecContext(ctx, s.sql(qPurgeWebhooks), micros(before), purgeSlice)
		if err != nil {
			return total, s.wrap("PurgeWebhooks", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, s.wrap("PurgeWebhooks", err)
		}
		total += n
		if n < purgeSlice {
			return total, nil
		}
	}
}
