package sqlstore

import (
	"context"
	"runtime"
	"sync"

	"github.com/parley-chat/parley"
)

// pending is what every group-committed operation carries: the caller's
// context and the channel its one answer arrives on, or the callback
// that takes it.
type pending struct {
	ctx  context.Context // the caller's; only checked before the operation is tried
	done chan error      // nil when then is set
	// then, when set, gets the answer instead of done: the callbacks of
	// one batch run together on a goroutine of their own after the commit
	// (see run), so that a caller needs no goroutine per operation.
	then func(b *parley.Burst, err error)
	err  error // the answer, for then
}

func (p *pending) base() *pending { return p }

// answer hands the operation's result to its caller.
func (p *pending) answer(err error) {
	if p.then != nil {
		p.err = err
		return
	}
	p.done <- err
}

// groupCommit is a queue with one writer goroutine that takes every
// operation waiting (up to its batch cap) and hands them to commit at once,
// which answers each on its done channel. The mailbox batcher and the
// outbound queue's writer are built on it; see the package doc.
type groupCommit[E any, P interface {
	*E
	base() *pending
}] struct {
	commit  func(ops []P)
	max     int          // operations per batch
	mu      sync.RWMutex // closed and sends on q
	closed  bool
	q       chan P
	stopped chan struct{}
}

// start makes g run commit for each batch of at most max operations, on
// a goroutine of its own. The queue holds four batches.
func (g *groupCommit[E, P]) start(commit func(ops []P), max int) {
	g.commit, g.max, g.q, g.stopped = commit, max, make(chan P, 4*max), make(chan struct{})
	go g.run()
}

// submit queues o. Operations submitted one after another by one
// goroutine are committed in that order.
func (g *groupCommit[E, P]) submit(ctx context.Context, o P) error {
	p := o.base()
	p.ctx = ctx
	if p.then == nil {
		p.done = make(chan error, 1) // the writer never blocks on a caller that left
	}
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.closed {
		return &parley.Error{Code: parley.EUNAVAILABLE, Message: "storage is closed"}
	}
	select {
	case g.q <- o:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// wait returns the result of a submitted o, or ctx's error.
func (g *groupCommit[E, P]) wait(ctx context.Context, o P) error {
	select {
	case err := <-o.base().done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do queues o and waits for its result or for ctx to end.
func (g *groupCommit[E, P]) do(ctx context.Context, o P) error {
	if err := g.submit(ctx, o); err != nil {
		return err
	}
	return g.wait(ctx, o)
}

// close stops accepting operations, waits until the writer has answered
// every queued one, and returns. Senders blocked on a full queue hold the
// read lock; the writer keeps draining, so they finish and close gets in.
func (g *groupCommit[E, P]) close() {
	g.mu.Lock()
	if !g.closed {
		g.closed = true
		close(g.q)
	}
	g.mu.Unlock()
	<-g.stopped
}

func (g *groupCommit[E, P]) run() {
	defer close(g.stopped)
	batch := make([]P, 0, g.max)
	live := make([]P, 0, g.max)
	for o := range g.q {
		// Let the callers answered last run first: they enqueue their
		// next operations, which then join this batch instead of each
		// making a batch of its own. Without this, under load the writer
		// runs ahead of them and batches stay small. When a whole batch
		// is waiting already, yielding would only keep the writer, the
		// bottleneck then, off the CPU.
		if len(g.q) < g.max {
			runtime.Gosched()
		}
		batch = append(batch[:0], o)
	fill:
		for len(batch) < g.max {
			select {
			case o, ok := <-g.q:
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
			if p := o.base(); p.ctx.Err() != nil {
				p.answer(p.ctx.Err()) // the caller has gone; nothing of it was written
				continue
			}
			live = append(live, o)
		}
		if len(live) > 0 {
			g.commit(live)
		}
		var thens []*pending
		for _, o := range batch {
			if p := o.base(); p.then != nil {
				thens = append(thens, p)
			}
		}
		if len(thens) > 0 {
			go runThens(thens)
		}
		clear(batch)
		clear(live)
	}
}

// runThens runs the callbacks of one batch in queue order, as one burst.
func runThens(ps []*pending) {
	var b parley.Burst
	for _, p := range ps {
		p.then(&b, p.err)
	}
	b.End()
}
