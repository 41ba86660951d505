package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// Handler receives the events of every connection of a Server. See the
// package documentation for ordering.
type Handler interface {
	// OnOpen runs after the upgrade, before any OnMessage for c. r is the
	// upgrade request (headers, remote address).
	OnOpen(c *Conn, r *http.Request)
	// OnMessage gets each complete text or binary message (fragments
	// reassembled). data is valid only during the call. Calls for one Conn
	// never overlap and come in order.
	OnMessage(c *Conn, text bool, data []byte)
	// OnClose runs exactly once per opened Conn, after which the Conn is
	// unusable. err is nil for a close frame from the peer or Conn.Close.
	OnClose(c *Conn, code int, err error)
}

// Server upgrades HTTP requests to WebSocket connections and serves them.
// It must be run with Run.
type Server struct {
	h     Handler
	opt   Options
	log   *slog.Logger
	up    ws.HTTPUpgrader
	epoch time.Time
	poll  *poller // nil: one goroutine per connection
	work  chan *Conn

	// closeTimeout bounds the best-effort close frame, which must not stall
	// a sweep or shutdown for a full WriteTimeout.
	closeTimeout time.Duration
	// lingerTimeout bounds draining input after a read error (see linger).
	lingerTimeout time.Duration
	lingerSlots   chan struct{}

	mu      sync.RWMutex
	conns   map[uint64]*Conn // open (not yet closing) connections by id
	nextID  uint64
	closing atomic.Bool // set under mu

	open    sync.WaitGroup // registered connections whose OnClose has not returned
	bg      sync.WaitGroup // read loops, OnClose goroutines, lingering closes
	running atomic.Bool
}

var _ http.Handler = (*Server)(nil)

// maxLingering bounds the goroutines draining connections closed after a
// read error, so a flood of bad clients cannot turn into a goroutine flood.
const maxLingering = 256

// NewServer returns a Server delivering events to h.
func NewServer(h Handler, o Options) (*Server, error) {
	if h == nil {
		return nil, errors.New("ws: nil Handler")
	}
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	p, err := newPoller()
	if err != nil {
		return nil, err
	}
	return &Server{
		h:             h,
		opt:           o,
		log:           o.Logger,
		up:            ws.HTTPUpgrader{Timeout: o.WriteTimeout},
		epoch:         time.Now(),
		poll:          p,
		work:          make(chan *Conn, 4*o.Workers),
		closeTimeout:  min(o.WriteTimeout, time.Second),
		lingerTimeout: min(o.ReadTimeout, time.Second),
		lingerSlots:   make(chan struct{}, maxLingering),
		conns:         make(map[uint64]*Conn),
	}, nil
}

// now is a monotonic clock in nanoseconds, compact enough for one atomic
// word per connection.
func (s *Server) now() int64 { return int64(time.Since(s.epoch)) }

// Len returns the number of open connections.
func (s *Server) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.conns)
}

// ServeHTTP upgrades the request, calls OnOpen and registers the
// connection. After shutdown it answers 503.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.closing.Load() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	if f := s.opt.CheckOrigin; f != nil && !f(r) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return
	}
	nc, rw, _, err := s.up.Upgrade(r, w)
	if err != nil {
		// The upgrader has already answered the client.
		if nc != nil {
			_ = nc.Close()
		}
		s.log.Debug("ws: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	c := &Conn{srv: s, nc: nc, busy: true}
	// Bytes the client pipelined after its request sit in net/http's
	// reader. Keep only them, not the reader and writer with their 4 KiB
	// buffers each.
	if n := rw.Reader.Buffered(); n > 0 {
		p, _ := rw.Reader.Peek(n)
		c.pending = bytes.Clone(p)
	}
	if sc, ok := nc.(syscall.Conn); ok && s.poll != nil {
		if rc, err := sc.SyscallConn(); err == nil {
			c.rc = rc
		}
	}
	if !s.register(c) {
		var p [125]byte
		if nc.SetWriteDeadline(time.Now().Add(s.closeTimeout)) == nil {
			_ = c.writeFrame(ws.OpClose, p[:closePayload(p[:], CloseGoingAway, "going away")])
		}
		_ = nc.Close()
		return
	}
	// This goroutine is the connection's reader until release: OnOpen and
	// the pipelined frames run here, before epoll can hand it to a worker.
	if s.guard(c, func() { s.h.OnOpen(c, r) }) && len(c.pending) > 0 && !c.closed.Load() {
		fr := getFrameReader(c)
		if s.turn(c, fr) {
			putFrameReader(fr)
		}
	}
	s.release(c)
}

func (s *Server) register(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return false
	}
	s.nextID++
	c.id = s.nextID
	c.lastRead.Store(s.now())
	s.conns[c.id] = c
	s.open.Add(1)
	return true
}

func (s *Server) forget(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c.id)
	s.mu.Unlock()
}

func (s *Server) lookup(id uint64) *Conn {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.conns[id]
}

// Run serves registered connections until ctx is done, then closes every
// connection with 1001 and returns once each has had its OnClose. It
// returns nil after a shutdown through ctx, or the poller's error.
func (s *Server) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("ws: Run called twice")
	}
	var workers sync.WaitGroup
	for range s.opt.Workers {
		workers.Go(s.worker)
	}
	pollDone := make(chan error, 1)
	if s.poll != nil {
		go func() { pollDone <- s.poll.run(s.dispatch) }()
	}
	stopSweep := make(chan struct{})
	sweepDone := make(chan struct{})
	go s.sweepLoop(stopSweep, sweepDone)

	var err error
	select {
	case <-ctx.Done():
	case err = <-pollDone:
		err = fmt.Errorf("ws: poller: %w", err)
		s.log.Error("ws: poller failed; shutting down", "err", err)
		pollDone <- nil
	}

	s.mu.Lock()
	s.closing.Store(true)
	s.mu.Unlock()
	close(stopSweep)
	<-sweepDone
	s.closeAll(CloseGoingAway, "going away", ErrServerClosed)
	// Workers keep running meanwhile: OnClose of a connection being read is
	// delivered by its worker.
	s.open.Wait()
	if s.poll != nil {
		s.poll.stop()
		<-pollDone
	}
	close(s.work)
	workers.Wait()
	if s.poll != nil {
		s.poll.close()
	}
	s.bg.Wait()
	return err
}

func (s *Server) dispatch(id uint64) {
	if c := s.lookup(id); c != nil {
		s.work <- c
	}
}

func (s *Server) worker() {
	for c := range s.work {
		if !c.acquire() {
			continue
		}
		fr := getFrameReader(c)
		if s.turn(c, fr) {
			putFrameReader(fr)
		}
		s.release(c)
	}
}

// closeAll closes every open connection a few at a time, so that close
// frames to stuck peers (each bounded by closeTimeout) overlap.
func (s *Server) closeAll(code int, reason string, cause error) {
	s.mu.RLock()
	list := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		list = append(list, c)
	}
	s.mu.RUnlock()
	ch := make(chan *Conn)
	var wg sync.WaitGroup
	for range min(len(list), 32) {
		wg.Go(func() {
			for c := range ch {
				c.closeWith(code, reason, cause, sendFrame)
			}
		})
	}
	for _, c := range list {
		ch <- c
	}
	close(ch)
	wg.Wait()
}

func (s *Server) sweepLoop(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(min(max(s.opt.IdleTimeout/4, time.Millisecond), time.Second))
	defer t.Stop()
	var idle []*Conn
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			idle = s.sweep(idle)
		}
	}
}

// sweep closes connections that have read nothing for IdleTimeout. buf is
// reused between sweeps.
func (s *Server) sweep(buf []*Conn) []*Conn {
	limit := s.now() - int64(s.opt.IdleTimeout)
	s.mu.RLock()
	for _, c := range s.conns {
		if c.lastRead.Load() < limit {
			buf = append(buf, c)
		}
	}
	s.mu.RUnlock()
	for _, c := range buf {
		// A connection being read is not idle, whatever its last frame.
		if !c.isBusy() {
			c.closeWith(CloseGoingAway, "idle timeout", ErrIdleTimeout, sendFrame)
		}
	}
	clear(buf)
	return buf[:0]
}

// release ends a read turn: it delivers OnClose if the connection closed
// meanwhile, or waits for its next frame (epoll or read loop). It reports
// whether the connection is still open.
func (s *Server) release(c *Conn) bool {
	c.mu.Lock()
	c.busy = false
	if c.closed.Load() {
		notify := !c.notified
		c.notified = true
		c.mu.Unlock()
		if notify {
			s.notify(c)
		}
		return false
	}
	first := !c.started
	c.started = true
	c.mu.Unlock()
	if c.rc == nil {
		if first {
			s.bg.Add(1)
			go s.readLoop(c)
		}
		return true
	}
	if err := s.poll.arm(c, first); err != nil {
		// Fails harmlessly when a concurrent Close got there first.
		c.closeWith(CloseInternalError, "internal error", fmt.Errorf("ws: epoll: %w", err), sendFrame)
		return false
	}
	return true
}

func (s *Server) notify(c *Conn) {
	defer s.open.Done()
	c.frag = nil
	s.guard(c, func() { s.h.OnClose(c, c.code, c.cause) })
}

// guard runs a handler callback, turning a panic into a 1011 close so one
// bad message cannot take the server down. It reports whether f returned.
func (s *Server) guard(c *Conn, f func()) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("ws: handler panicked", "remote", c.RemoteAddr(), "panic", r, "stack", string(debug.Stack()))
			c.closeWith(CloseInternalError, "internal error", fmt.Errorf("%w: %v", ErrHandlerPanic, r), sendFrame)
			ok = false
		}
	}()
	f()
	return true
}

// turn reads the frames available on c. It reports false after a panic,
// when fr is in an unknown state and must not be pooled.
func (s *Server) turn(c *Conn, fr *frameReader) bool {
	return s.guard(c, func() {
		if err := c.readFrames(fr); err != nil {
			c.readFailed(err)
		}
	})
}
