package ws

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gobwas/ws"
)

// Conn is one WebSocket connection. Its fields are kept few because an
// idle connection is mostly this struct (see the package doc).
type Conn struct {
	srv *Server
	nc  net.Conn
	rc  syscall.RawConn // nil when served by a read loop instead of epoll
	id  uint64          // epoll key; never reused, unlike file descriptors

	lastRead atomic.Int64 // Server.now() at the last frame
	deadline int64        // Server.now() when the socket's read deadline passes; the reader's own
	closed   atomic.Bool  // set under mu; read without it on hot paths

	mu       sync.Mutex
	busy     bool // a reader (ServeHTTP, a worker, the read loop) owns the read side
	started  bool // registered with epoll or read loop running
	notified bool // OnClose delivered or being delivered
	code     int
	cause    error
	value    any

	wmu     sync.Mutex // serializes frames
	wbroken bool       // a close frame was sent or a write failed part-way

	qmu     sync.Mutex // guards writing, held and queue
	writing bool       // a goroutine is in write and will flush queue
	held    bool       // Hold: frames queue until Release
	queue   []byte     // frames queued behind a writer or a hold; nil otherwise

	// Read side, owned by the current reader.
	pending    []byte // bytes pipelined after the handshake, not yet read
	frag       []byte // fragmented message being reassembled
	fragmented bool
	fragText   bool
}

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Value returns what SetValue stored.
func (c *Conn) Value() any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.value
}

// SetValue stores handler state for the connection, typically in OnOpen.
func (c *Conn) SetValue(v any) {
	c.mu.Lock()
	c.value = v
	c.mu.Unlock()
}

// WriteText sends p as one text message. p must be valid UTF-8. Writes are
// safe for concurrent use and serialized per connection; one that fails or
// does not finish within WriteTimeout closes the connection.
func (c *Conn) WriteText(p []byte) error { return c.write(ws.OpText, p) }

// WriteBinary sends p as one binary message, like WriteText.
func (c *Conn) WriteBinary(p []byte) error { return c.write(ws.OpBinary, p) }

// Close sends a close frame with code and reason (best effort, bounded by
// WriteTimeout and one second) and closes the connection. OnClose follows,
// not inside this call. Codes that must not be sent (1005, 1006, 1015,
// outside 1000–4999) are replaced by 1011. Close is idempotent.
func (c *Conn) Close(code int, reason string) {
	if !receivable(code) {
		code = CloseInternalError
	}
	c.closeWith(code, reason, nil, sendFrame)
}

func (c *Conn) write(op ws.OpCode, p []byte) error {
	// Writers combine: while one goroutine is in a write, frames from
	// others are appended to a queue that it writes in one go before it
	// returns, so a busy connection costs one syscall per burst instead of
	// one per frame. A queued frame's caller gets nil at once; if the flush
	// fails, the connection is closed, as for any failed write. The queue
	// exists only during a burst, so an idle connection holds no buffer.
	c.qmu.Lock()
	if c.writing {
		if len(c.queue)+len(p)+10 > maxQueued {
			c.qmu.Unlock()
			err := fmt.Errorf("%w: more than %d bytes queued", ErrWriteTimeout, maxQueued)
			c.closeWith(ClosePolicyViolation, "", err, 0)
			return err
		}
		c.queue = appendFrame(c.queueBuf(), op, p)
		c.qmu.Unlock()
		return nil
	}
	if c.held {
		c.queue = appendFrame(c.queueBuf(), op, p)
		if len(c.queue) < maxHeld {
			c.qmu.Unlock()
			return nil
		}
		// Enough for one write: this caller writes what is queued.
		c.writing = true
		c.qmu.Unlock()
		return c.flush(nil)
	}
	c.writing = true
	c.qmu.Unlock()
	return c.flush(c.writeLocked(func() error { return c.writeFrame(op, p) }))
}

// Hold makes frames written from now on queue until Release, which writes
// them in one go: a caller about to write several frames to a connection
// in a row (the gateway's bus dispatch) saves a syscall per frame. Past
// maxHeld bytes queued the next write goes out anyway. Every Hold must be
// followed by a Release soon, from any goroutine; a second Hold before
// the Release changes nothing.
func (c *Conn) Hold() {
	c.qmu.Lock()
	c.held = true
	c.qmu.Unlock()
}

// Release ends a Hold and writes what it queued, unless another writer is
// under way and will.
func (c *Conn) Release() error {
	c.qmu.Lock()
	c.held = false
	if c.writing || len(c.queue) == 0 {
		c.qmu.Unlock()
		return nil
	}
	c.writing = true
	c.qmu.Unlock()
	return c.flush(nil)
}

// maxHeld is how many bytes a Hold queues before they are written anyway.
const maxHeld = 64 << 10

// flush is the end of a write by the goroutine that set c.writing: unless
// err (of its own frame) is set, it writes the queue until it is empty,
// or held with less than maxHeld in it.
func (c *Conn) flush(err error) error {
	for err == nil {
		c.qmu.Lock()
		buf := c.queue
		if len(buf) == 0 || (c.held && len(buf) < maxHeld) {
			c.writing = false
			c.qmu.Unlock()
			return nil
		}
		c.queue = nil
		c.qmu.Unlock()
		err = c.writeLocked(func() error {
			_, err := c.nc.Write(buf)
			return err
		})
		putQueueBuf(buf)
	}
	c.qmu.Lock()
	c.writing, c.queue = false, nil
	c.qmu.Unlock()
	return err
}

// queueBufs holds the buffers of written bursts for the next burst on
// any connection: grown by append from nothing each time, the queues were
// about a tenth of the bytes the server allocated per durable message.
var queueBufs sync.Pool // of *[]byte

// queueBuf returns c.queue, or an empty buffer from queueBufs when there
// is no queue. c.qmu must be held.
func (c *Conn) queueBuf() []byte {
	if c.queue != nil {
		return c.queue
	}
	if b, _ := queueBufs.Get().(*[]byte); b != nil {
		return (*b)[:0]
	}
	return make([]byte, 0, 4<<10)
}

// putQueueBuf gives a written queue to queueBufs; the large ones of a
// slow peer's backlog are left to the collector.
func putQueueBuf(q []byte) {
	if cap(q) <= 2*maxHeld {
		queueBufs.Put(&q)
	}
}

// maxQueued bounds the bytes other writers may queue behind a write in
// progress; beyond it the peer is not reading fast enough.
const maxQueued = 4 << 20

// appendFrame appends one unmasked, final frame to b.
func appendFrame(b []byte, op ws.OpCode, p []byte) []byte {
	b = append(b, 0x80|byte(op))
	switch l := len(p); {
	case l < 126:
		b = append(b, byte(l))
	case l <= 0xffff:
		b = append(b, 126, byte(l>>8), byte(l))
	default:
		b = append(b, 127)
		for i := range 8 {
			b = append(b, byte(uint64(l)>>(56-8*i)))
		}
	}
	return append(b, p...)
}

// writeLocked runs w under the write lock with the write deadline set,
// unless the connection is closed or broken.
func (c *Conn) writeLocked(w func() error) error {
	c.wmu.Lock()
	// The deadline is set before closed is checked: a Close that starts
	// after the check then shortens this deadline (sendClose), instead of
	// this write undoing Close's shorter one.
	err := c.nc.SetWriteDeadline(time.Now().Add(c.srv.opt.WriteTimeout))
	if c.closed.Load() || c.wbroken {
		c.wmu.Unlock()
		return ErrClosed
	}
	if err == nil {
		err = w()
	}
	if err != nil {
		// Part of the frame may be out; nothing else can follow it.
		c.wbroken = true
	}
	c.wmu.Unlock()
	if err == nil {
		return nil
	}
	if c.closed.Load() {
		return ErrClosed
	}
	return c.writeFailed(err)
}

// writeFailed closes the connection after a failed write, outside wmu so
// that closing cannot wait on the write lock, and returns the cause.
func (c *Conn) writeFailed(err error) error {
	code := CloseAbnormal
	if errors.Is(err, os.ErrDeadlineExceeded) {
		code, err = ClosePolicyViolation, fmt.Errorf("%w: %w", ErrWriteTimeout, err)
	} else {
		err = fmt.Errorf("ws: write: %w", err)
	}
	c.closeWith(code, "", err, 0)
	return err
}

// writeFrame writes one unmasked, final frame. The caller holds wmu and
// has set the write deadline.
func (c *Conn) writeFrame(op ws.OpCode, p []byte) error {
	var hb [10]byte
	hb[0] = 0x80 | byte(op)
	n := 2
	switch l := len(p); {
	case l < 126:
		hb[1] = byte(l)
	case l <= 0xffff:
		hb[1] = 126
		hb[2], hb[3] = byte(l>>8), byte(l)
		n = 4
	default:
		hb[1] = 127
		for i := range 8 {
			hb[2+i] = byte(uint64(l) >> (56 - 8*i))
		}
		n = 10
	}
	// One writev for header and payload, without copying the payload.
	bufs := net.Buffers{hb[:n], p}
	_, err := bufs.WriteTo(c.nc)
	return err
}

type closeMode uint8

const (
	sendFrame  closeMode = 1 << iota // send a close frame first
	lingerRead                       // unread input may follow; drain it before closing (see linger)
)

// closeWith closes the connection once; later calls do nothing. OnClose is
// delivered by the reader if there is one, else by a new goroutine, so it
// never runs inside the caller's Close or write.
func (c *Conn) closeWith(code int, reason string, cause error, mode closeMode) {
	s := c.srv
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		return
	}
	// Counted before the close becomes visible, so Run cannot pass
	// bg.Wait while this call still has goroutines to start.
	s.bg.Add(1)
	defer s.bg.Done()
	c.closed.Store(true)
	c.code, c.cause = code, cause
	notifyNow := !c.busy
	c.notified = notifyNow
	c.mu.Unlock()

	s.forget(c)
	if cause != nil {
		s.log.Debug("ws: closing", "remote", c.RemoteAddr(), "code", code, "err", cause)
	}
	if mode&sendFrame != 0 {
		c.sendClose(code, reason)
	}
	if mode&lingerRead == 0 || !s.linger(c) {
		_ = c.nc.Close()
	}
	if notifyNow {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			s.notify(c)
		}()
	}
}

func (c *Conn) sendClose(code int, reason string) {
	t := c.srv.closeTimeout
	// Cut short a write stuck on a slow consumer instead of queueing
	// behind it; that write fails and leaves the stream broken.
	_ = c.nc.SetWriteDeadline(time.Now().Add(t))
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.wbroken {
		return
	}
	c.wbroken = true
	var p [125]byte
	if c.nc.SetWriteDeadline(time.Now().Add(t)) == nil {
		_ = c.writeFrame(ws.OpClose, p[:closePayload(p[:], code, reason)])
	}
}

// maxLingerBytes bounds what linger reads from a misbehaving peer.
const maxLingerBytes = 1 << 20

// linger half-closes c and drains its input for a moment before closing.
// After a read error the peer may still be sending (the rest of an
// oversized message, say); closing a socket with unread input makes the
// kernel answer with RST, which can destroy the close frame before the peer
// reads its code. It reports false if it did not take over closing c.
func (s *Server) linger(c *Conn) bool {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok {
		return false
	}
	select {
	case s.lingerSlots <- struct{}{}:
	default:
		return false
	}
	_ = cw.CloseWrite()
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer func() { <-s.lingerSlots }()
		_ = c.nc.SetReadDeadline(time.Now().Add(s.lingerTimeout))
		_, _ = io.Copy(io.Discard, io.LimitReader(c.nc, maxLingerBytes))
		_ = c.nc.Close()
	}()
	return true
}

// acquire makes the caller the connection's reader.
func (c *Conn) acquire() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy || c.closed.Load() {
		return false
	}
	c.busy = true
	return true
}

func (c *Conn) isBusy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.busy
}
