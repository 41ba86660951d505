package ws

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"
)

// memConn is a net.Conn that reads a fixed input and records what is
// written, so the frame reader can be fuzzed without sockets.
type memConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func (m *memConn) Read(p []byte) (int, error)         { return m.in.Read(p) }
func (m *memConn) Write(p []byte) (int, error)        { return m.out.Write(p) }
func (m *memConn) Close() error                       { return nil }
func (m *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{} }
func (m *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{} }
func (m *memConn) SetDeadline(time.Time) error        { return nil }
func (m *memConn) SetReadDeadline(time.Time) error    { return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { return nil }

const fuzzMaxMessage = 4096

// fuzzHandler checks what the reader delivers.
type fuzzHandler struct {
	t      *testing.T
	closes int
	code   int
	err    error
}

func (h *fuzzHandler) OnOpen(*Conn, *http.Request) {}

func (h *fuzzHandler) OnMessage(c *Conn, text bool, data []byte) {
	if len(data) > fuzzMaxMessage {
		h.t.Fatalf("delivered %d bytes, limit %d", len(data), fuzzMaxMessage)
	}
	if text && !utf8.Valid(data) {
		h.t.Fatal("delivered invalid UTF-8 as text")
	}
	echo(c, text, data)
}

func (h *fuzzHandler) OnClose(c *Conn, code int, err error) {
	h.closes++
	h.code, h.err = code, err
}

// FuzzRead feeds arbitrary bytes to a connection as if they followed a
// valid handshake. The reader must never panic or hang, must deliver only
// valid messages within the limit, and must write only valid frames.
func FuzzRead(f *testing.F) {
	f.Add(frame(fin|opText, []byte("hello"), true))
	f.Fuzz(func(t *testing.T, in []byte) {
		h := &fuzzHandler{t: t}
		s, err := NewServer(h, Options{MaxMessageSize: fuzzMaxMessage})
		if err != nil {
			t.Fatal(err)
		}
		if s.poll != nil {
			s.poll.close()
			s.poll = nil
		}
		mc := &memConn{in: bytes.NewReader(in)}
		c := &Conn{srv: s, nc: mc, busy: true}
		if !s.register(c) {
			t.Fatal("register failed")
		}
		// Split the input between the pipelined bytes and the socket, as
		// ServeHTTP may.
		if len(in) > 0 {
			n := int(in[0]) % (len(in) + 1)
			c.pending = bytes.Clone(in[:n])
			mc.in = bytes.NewReader(in[n:])
		}
		for !c.closed.Load() {
			fr := getFrameReader(c)
			if !s.turn(c, fr) {
				break
			}
			putFrameReader(fr)
		}
		s.release(c)
		s.bg.Wait()
		if h.closes != 1 {
			t.Fatalf("OnClose called %d times, want 1", h.closes)
		}
		if errors.Is(h.err, ErrHandlerPanic) {
			t.Fatalf("reader panicked: %v", h.err)
		}
		checkServerFrames(t, mc.out.Bytes())
	})
}

// checkServerFrames parses what the server wrote: unmasked final frames,
// control payloads within 125 bytes, nothing after a close frame.
func checkServerFrames(t *testing.T, out []byte) {
	rc := &rawClient{br: bufioReader(out)}
	closed := false
	for {
		op, p, err := rc.read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("server wrote a bad frame: %v", err)
		}
		if closed {
			t.Fatal("server wrote a frame after its close frame")
		}
		switch op {
		case opClose:
			closed = true
			if len(p) == 1 || len(p) > 125 {
				t.Fatalf("close payload of %d bytes", len(p))
			}
		case opPong:
			if len(p) > 125 {
				t.Fatalf("pong payload of %d bytes", len(p))
			}
		case opText, opBinary:
		default:
			t.Fatalf("server wrote opcode %x", op)
		}
	}
}
