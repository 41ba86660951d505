package ws

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

const (
	readBufSize = 4096
	// readChunk is how far a payload buffer grows ahead of the bytes that
	// have arrived, so a peer cannot make the server allocate a declared
	// length it never sends.
	readChunk = 32 << 10
	// maxPooledScratch keeps one large message from pinning its buffer in
	// the pool.
	maxPooledScratch = 64 << 10
)

// frameReader is the state of one read turn. A worker takes it from the
// pool for a turn; idle connections never hold one.
type frameReader struct {
	br      *bufio.Reader
	hdr     [ws.MaxHeaderSize]byte
	ctl     [ws.MaxControlFramePayloadSize]byte
	scratch []byte // single-frame messages larger than br
}

var frameReaders = sync.Pool{New: func() any {
	return &frameReader{br: bufio.NewReaderSize(nil, readBufSize)}
}}

func getFrameReader(c *Conn) *frameReader {
	fr := frameReaders.Get().(*frameReader)
	fr.br.Reset((*source)(c))
	return fr
}

func putFrameReader(fr *frameReader) {
	fr.br.Reset(nil)
	if cap(fr.scratch) > maxPooledScratch {
		fr.scratch = nil
	}
	frameReaders.Put(fr)
}

// source reads the bytes pipelined after the handshake, then the socket.
type source Conn

func (s *source) Read(p []byte) (int, error) {
	if len(s.pending) > 0 {
		n := copy(p, s.pending)
		s.pending = s.pending[n:]
		if len(s.pending) == 0 {
			s.pending = nil
		}
		return n, nil
	}
	return s.nc.Read(p)
}

// readFrames reads frames until fr's buffer and the pipelined bytes are
// empty, so that no buffered input is lost when fr goes back to the pool.
// The socket's read deadline is moved only once less than half of
// ReadTimeout is left of it (moving it costs a timer update, about 1 % of
// a loaded node's CPU when done for every frame).
func (c *Conn) readFrames(fr *frameReader) error {
	for {
		now := time.Now()
		at := int64(now.Sub(c.srv.epoch))
		c.lastRead.Store(at)
		if timeout := int64(c.srv.opt.ReadTimeout); c.deadline-at < timeout/2 {
			if err := c.nc.SetReadDeadline(now.Add(c.srv.opt.ReadTimeout)); err != nil {
				return err
			}
			c.deadline = at + timeout
		}
		if err := c.readFrame(fr); err != nil {
			return err
		}
		if c.closed.Load() || (fr.br.Buffered() == 0 && len(c.pending) == 0) {
			return nil
		}
	}
}

// readFailed closes the connection after readFrames failed.
func (c *Conn) readFailed(err error) {
	if c.closed.Load() {
		// Our own close made the read fail.
		return
	}
	var f *failure
	switch {
	case errors.As(err, &f):
		c.closeWith(f.code, f.reason, f.err, sendFrame|lingerRead)
	case errors.Is(err, os.ErrDeadlineExceeded):
		c.closeWith(ClosePolicyViolation, "read timeout", fmt.Errorf("%w: %w", ErrReadTimeout, err), sendFrame|lingerRead)
	default:
		c.closeWith(CloseAbnormal, "", fmt.Errorf("ws: read: %w", err), 0)
	}
}

// readFrame reads one frame and acts on it: a control frame is answered, a
// data frame is delivered or added to the message being reassembled.
func (c *Conn) readFrame(fr *frameReader) error {
	h, err := ws.ReadHeaderBuffer(fr.br, fr.hdr[:])
	switch {
	case errors.Is(err, ws.ErrHeaderLengthMSB), errors.Is(err, ws.ErrHeaderLengthUnexpected):
		return protocolError("bad payload length")
	case err != nil:
		return err
	case h.Rsv != 0:
		// No extension is ever negotiated.
		return protocolError("reserved bits set")
	case !h.Masked:
		return protocolError("unmasked client frame")
	case h.OpCode.IsReserved():
		return protocolError("reserved opcode")
	case h.OpCode.IsControl():
		return c.readControl(fr, h)
	}
	return c.readData(fr, h)
}

func (c *Conn) readControl(fr *frameReader, h ws.Header) error {
	if !h.Fin || h.Length > ws.MaxControlFramePayloadSize {
		return protocolError("fragmented or oversized control frame")
	}
	p := fr.ctl[:h.Length]
	if _, err := io.ReadFull(fr.br, p); err != nil {
		return err
	}
	ws.Cipher(p, h.Mask, 0)
	switch h.OpCode {
	case ws.OpPing:
		// A failed pong closes the connection; readFrames sees that.
		_ = c.write(ws.OpPong, p)
	case ws.OpClose:
		return c.peerClosed(p)
	}
	return nil
}

// peerClosed answers a close frame by echoing its code.
func (c *Conn) peerClosed(p []byte) error {
	code := CloseNoStatus
	switch {
	case len(p) == 1:
		return protocolError("1-byte close payload")
	case len(p) >= 2:
		code = int(binary.BigEndian.Uint16(p))
		if !receivable(code) {
			return protocolError("invalid close code")
		}
		if !utf8.Valid(p[2:]) {
			return &failure{code: CloseInvalidPayload, reason: "invalid UTF-8", err: ErrInvalidUTF8}
		}
	}
	c.closeWith(code, "", nil, sendFrame)
	return nil
}

func (c *Conn) readData(fr *frameReader, h ws.Header) error {
	cont := h.OpCode == ws.OpContinuation
	if cont != c.fragmented {
		if cont {
			return protocolError("continuation without a message")
		}
		return protocolError("new message inside a fragmented one")
	}
	// len(c.frag) is zero unless reassembling.
	if h.Length > c.srv.opt.MaxMessageSize-int64(len(c.frag)) {
		return &failure{code: CloseTooBig, reason: "message too big", err: ErrMessageTooBig}
	}
	if h.Fin && !cont {
		return c.readWhole(fr, h)
	}
	if !cont {
		c.fragmented, c.fragText = true, h.OpCode == ws.OpText
	}
	start := len(c.frag)
	var err error
	c.frag, err = readN(fr.br, c.frag, h.Length)
	if err != nil {
		return err
	}
	ws.Cipher(c.frag[start:], h.Mask, 0)
	if !h.Fin {
		return nil
	}
	data, text := c.frag, c.fragText
	// The connection must not keep a buffer once the message is out.
	c.frag, c.fragmented = nil, false
	return c.deliver(text, data)
}

// readWhole reads a single-frame message, the common case: in place in
// the bufio buffer when it fits, else in the pooled scratch buffer.
func (c *Conn) readWhole(fr *frameReader, h ws.Header) error {
	text := h.OpCode == ws.OpText
	n := int(h.Length)
	if n <= fr.br.Size() {
		p, err := fr.br.Peek(n)
		if err != nil {
			return err
		}
		ws.Cipher(p, h.Mask, 0)
		err = c.deliver(text, p)
		_, _ = fr.br.Discard(n)
		return err
	}
	p, err := readN(fr.br, fr.scratch[:0], h.Length)
	fr.scratch = p
	if err != nil {
		return err
	}
	ws.Cipher(p, h.Mask, 0)
	return c.deliver(text, p)
}

func (c *Conn) deliver(text bool, data []byte) error {
	if text && !utf8.Valid(data) {
		return &failure{code: CloseInvalidPayload, reason: "invalid UTF-8", err: ErrInvalidUTF8}
	}
	c.srv.h.OnMessage(c, text, data)
	return nil
}

// readN appends n bytes from r to dst, growing dst only as bytes arrive.
func readN(r io.Reader, dst []byte, n int64) ([]byte, error) {
	for n > 0 {
		chunk := int(min(n, readChunk))
		dst = slices.Grow(dst, chunk)
		m, err := io.ReadFull(r, dst[len(dst):len(dst)+chunk])
		dst = dst[:len(dst)+m]
		n -= int64(m)
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}
