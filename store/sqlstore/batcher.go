package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/parley-chat/parley"
)

const (
	// Operations per transaction. Saturated, the mailbox writer is the
	// bottleneck and its batches are full: larger ones cost less per
	// operation (an active device's pages are written once per commit
	// whatever the number of its rows). docs/BENCHMARKS.md has the
	// measurements.
	maxBatch   = 1024
	txTimeout  = 30 * time.Second // bounds a batch when the database hangs (unless Dialect.LocalWrites)
	maxRetries = 3                // attempts of one operation on its own after its batch failed
)

// op is one Deliver or Ack on its way through the batcher. The caller
// fills it, the writer goroutine sets the results and then answers once:
// on done, which the caller receives before it reads the results, or by
// its then callback, run on a goroutine started after the batch. Either
// orders every access.
type op struct {
	pending

	deliver     bool // Deliver, else Ack
	from        string
	fromDevice  uint32
	clientID    string
	messageID   string    // in: the new message's id; out: the stored one for duplicates
	timestamp   time.Time // likewise
	account     string    // Ack: the acking device
	device      uint32
	seqs        []uint64                                  // Ack: the items to delete
	items       []parley.Item                             // items to insert, the caller's copy; Seq is set by the writer
	media       []string                                  // Deliver: blobs to link to messageID
	webhooks    []parley.WebhookEvent                     // outbox events to commit with the operation (prepared: ids set)
	followFn    func(deleted []parley.Item) []parley.Item // AckWith: makes items from the deleted rows, in every run
	known       []parley.Item                             // AckWith: the items seqs name, by Seq, one each, when the caller knows them
	knownRun    bool                                      // this run deletes known's items without reading them back
	spanAcked   int                                       // in such a run: items of span rows it took
	duplicate   bool                                      // out
	err         error                                     // out: this operation's own failure (ESTALE), which does not fail the batch
	stale       bool                                      // addressed to a gone device; later runs of the batch skip it
	staleDevice deviceKey
	dupOf       *op   // claimKeys: the earlier op of the batch with the same key
	dev0        int   // apply: where this op's items' device indexes start in devOf
	ackDev      int32 // apply: the acking device's index
}

// batcher runs Deliver and Ack operations in group commits: one writer
// goroutine, many operations per transaction. See the package doc.
type batcher struct {
	groupCommit[op, *op]
	s    *Store
	own  bool      // run on a batch connection (Dialect.OpenBatchConn)
	conn BatchConn // the batch connection, owned by the writer goroutine; nil until opened
}

func newBatcher(s *Store) *batcher {
	b := &batcher{s: s, own: s.d.OpenBatchConn != nil}
	b.start(b.commit, maxBatch)
	return b
}

// commit runs ops in one transaction and answers each. When that fails,
// every op is tried again in a transaction of its own, so that one bad
// operation, or a conflict with another node, cannot fail the others.
func (b *batcher) commit(ops []*op) {
	err := b.attempt(ops)
	if err == nil {
		b.s.notifyWebhooks(ops)
		for _, o := range ops {
			o.answer(o.err)
		}
		return
	}
	for _, o := range ops {
		one := []*op{o}
		err := b.attempt(one)
		for i := 1; err != nil && i < maxRetries && b.s.d.retryable(err); i++ {
			err = b.attempt(one)
		}
		if err != nil {
			o.answer(err)
			continue
		}
		b.s.notifyWebhooks(one)
		o.answer(o.err)
	}
}

// attempt runs ops in one transaction. apply asks for another run when
// it found ops addressed to gone devices after writing for them (each run
// marks at least one more op stale, so there are at most len(ops) more),
// or device rows of follow-ups it could not lock at once (lockLate; the
// next run locks them first, so that takes a further run only when the
// follow-ups change meanwhile).
func (b *batcher) attempt(ops []*op) error {
	ctx, cancel := b.s.batchContext()
	defer cancel()
	b.s.prepareBulk(ctx)
	b.s.scratch.lockAlso = b.s.scratch.lockAlso[:0]
	careful := false
	for range len(ops) + 3 {
		err := b.run1(ctx, ops, careful)
		if (errors.Is(err, errKnownKeys) || errors.Is(err, errAcksMissing)) && !careful {
			careful = true
			continue
		}
		if !errors.Is(err, errRestart) {
			return err
		}
	}
	return errors.New("sqlstore: batch restarted too often")
}

// batchContext is the context of a group commit's transaction: bounded
// by txTimeout unless the dialect's writes are local.
func (s *Store) batchContext() (context.Context, context.CancelFunc) {
	if s.d.LocalWrites {
		return context.Background(), func() {}
	}
	return context.WithTimeout(context.Background(), txTimeout)
}

func (b *batcher) run1(ctx context.Context, ops []*op, careful bool) error {
	if b.own {
		return b.s.withBatchConn(ctx, func(t wtx) error { return b.s.apply(t, ops, careful) })
	}
	tx, err := b.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := b.s.apply(b.s.txOf(ctx, tx), ops, careful); err != nil {
		return err
	}
	return tx.Commit()
}
