package sqlstore

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"

	"github.com/parley-chat/parley"
)

const (
	maxBatch   = 512              // operations per transaction
	queueSize  = 4 * maxBatch     // operations waiting for the writer
	txTimeout  = 30 * time.Second // bounds a batch when the database hangs
	maxRetries = 3                // attempts of one operation on its own after its batch failed
)

// op is one Deliver or Ack on its way through the batcher. The caller
// fills it, the writer goroutine sets the results and then sends exactly
// one value on done; the caller reads the results only after receiving
// it, so the channel orders every access.
type op struct {
	done chan error

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
	duplicate   bool                                      // out
	err         error                                     // out: this operation's own failure (ESTALE), which does not fail the batch
	stale       bool                                      // addressed to a gone device; later runs of the batch skip it
	staleDevice deviceKey
	ctx         context.Context // the caller's; only checked before the operation is tried
}

// batcher runs Deliver and Ack operations in group commits: one writer
// goroutine, many operations per transaction. See the package doc.
type batcher struct {
	s       *Store
	mu      sync.RWMutex // closed and sends on q
	closed  bool
	q       chan *op
	stopped chan struct{}
}

func newBatcher(s *Store) *batcher {
	b := &batcher{s: s, q: make(chan *op, queueSize), stopped: make(chan struct{})}
	go b.run()
	return b
}

// do queues o and waits for its result or for ctx to end.
func (b *batcher) do(ctx context.Context, o *op) error {
	if err := b.submit(ctx, o); err != nil {
		return err
	}
	return b.wait(ctx, o)
}

// submit queues o. Operations submitted one after another by one
// goroutine are committed in that order.
func (b *batcher) submit(ctx context.Context, o *op) error {
	o.ctx = ctx
	o.done = make(chan error, 1) // the writer never blocks on a caller that left
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return &parley.Error{Code: parley.EUNAVAILABLE, Message: "storage is closed"}
	}
	select {
	case b.q <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait returns the result of a submitted o, or ctx's error.
func (b *batcher) wait(ctx context.Context, o *op) error {
	select {
	case err := <-o.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// close stops accepting operations, waits until the writer has answered
// every queued one, and returns. Senders blocked on a full queue hold the
// read lock; the writer keeps draining, so they finish and close gets in.
func (b *batcher) close() {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.q)
	}
	b.mu.Unlock()
	<-b.stopped
}

func (b *batcher) run() {
	defer close(b.stopped)
	batch := make([]*op, 0, maxBatch)
	live := make([]*op, 0, maxBatch)
	for o := range b.q {
		// Let the callers answered last run first: they enqueue their
		// next operations, which then join this batch instead of each
		// making a batch of its own. Without this, under load the writer
		// runs ahead of them and batches stay small.
		runtime.Gosched()
		batch = append(batch[:0], o)
	fill:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-b.q:
				if !ok {
					break fill
				}
				batch = append(batch, o)
			default:
				break fill
			}
		}
		live = live[:0]
		for _, o := range batch {
			if err := o.ctx.Err(); err != nil {
				o.done <- err // the caller has gone; nothing of it was written
				continue
			}
			live = append(live, o)
		}
		if len(live) > 0 {
			b.commit(live)
		}
		clear(batch)
		clear(live)
	}
}

// commit runs ops in one transaction and answers each. When that fails,
// every op is tried again in a transaction of its own, so that one bad
// operation, or a conflict with another node, cannot fail the others.
func (b *batcher) commit(ops []*op) {
	err := b.attempt(ops)
	if err == nil {
		b.s.notifyWebhooks(ops)
		for _, o := range ops {
			o.done <- o.err
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
			o.done <- err
			continue
		}
		b.s.notifyWebhooks(one)
		o.done <- o.err
	}
}

// attempt runs ops in one transaction. apply asks for a second run when
// it found ops addressed to gone devices after writing for them; each run
// marks at least one more op stale, so there are at most len(ops) more.
func (b *batcher) attempt(ops []*op) error {
	ctx, cancel := context.WithTimeout(context.Background(), txTimeout)
	defer cancel()
	b.s.prepareBulk(ctx)
	careful := false
	for range len(ops) + 3 {
		err := b.run1(ctx, ops, careful)
		if errors.Is(err, errKnownKeys) && !careful {
			careful = true
			continue
		}
		if !errors.Is(err, errRestart) {
			return err
		}
	}
	return errors.New("sqlstore: batch restarted too often")
}

func (b *batcher) run1(ctx context.Context, ops []*op, careful bool) error {
	tx, err := b.s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := b.s.apply(ctx, tx, ops, careful); err != nil {
		return err
	}
	return tx.Commit()
}
