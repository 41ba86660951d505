package sdk

import (
	"context"
	"sync"
)

// ctxWatch closes a connection when the context of a pending Read or
// Write ends. coder/websocket does the same when handed the context, but
// registers a context.AfterFunc for every frame it reads or writes (and
// one more for a frame's payload): a tenth of a busy client's CPU in the
// benchmark's load generator. A connection is read and written under a
// few long-lived contexts, so ctxWatch registers once per context (by its
// Done channel, which contexts derived by WithValue share) and only counts
// the operations pending under it; when a context ends with none pending,
// its entry is dropped and nothing is closed.
type ctxWatch struct {
	close func() // closes the connection

	mu      sync.Mutex
	entries map[<-chan struct{}]*watchEntry
}

type watchEntry struct {
	stop    func() bool // the context.AfterFunc's
	pending int         // operations under way with this context
}

// maxIdleWatched bounds the entries kept without a pending operation; a
// caller that makes a context per call and never cancels it would
// otherwise grow the map.
const maxIdleWatched = 8

// begin is called before an operation under ctx and end, with what begin
// returned, after it. begin returns ctx's error, without closing
// anything, when ctx has ended already.
func (w *ctxWatch) begin(ctx context.Context) (<-chan struct{}, error) {
	done := ctx.Done()
	if done == nil {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w.mu.Lock()
	e := w.entries[done]
	if e == nil {
		if w.entries == nil {
			w.entries = make(map[<-chan struct{}]*watchEntry)
		}
		if len(w.entries) >= maxIdleWatched {
			w.dropIdle()
		}
		e = &watchEntry{}
		e.stop = context.AfterFunc(ctx, func() { w.ended(done) })
		w.entries[done] = e
	}
	e.pending++
	w.mu.Unlock()
	return done, nil
}

func (w *ctxWatch) end(done <-chan struct{}) {
	if done == nil {
		return
	}
	w.mu.Lock()
	if e := w.entries[done]; e != nil {
		e.pending--
	}
	w.mu.Unlock()
}

// ended runs when a watched context ends.
func (w *ctxWatch) ended(done <-chan struct{}) {
	w.mu.Lock()
	e := w.entries[done]
	delete(w.entries, done)
	w.mu.Unlock()
	if e != nil && e.pending > 0 {
		w.close()
	}
}

// dropIdle forgets the contexts without a pending operation (w.mu held).
func (w *ctxWatch) dropIdle() {
	for done, e := range w.entries {
		if e.pending == 0 {
			e.stop()
			delete(w.entries, done)
		}
	}
}
