package ws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/gobwas/ws"
)

func dial(t *testing.T, ts *testServer) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(testCtx(t), ts.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(-1)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func TestEcho(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			ts := start(t, mode, newRecorder(t), Options{})
			c := dial(t, ts)
			ctx := testCtx(t)
			// Sizes around the length encodings and the 4 KiB read buffer.
			for _, n := range []int{0, 1, 125, 126, 4000, 4096, 4097, 65535, 65536, 200_000} {
				for _, typ := range []websocket.MessageType{websocket.MessageText, websocket.MessageBinary} {
					want := bytes.Repeat([]byte("abcdefg"), n/7+1)[:n]
					if err := c.Write(ctx, typ, want); err != nil {
						t.Fatal(err)
					}
					gotTyp, got, err := c.Read(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if gotTyp != typ || !bytes.Equal(got, want) {
						t.Fatalf("echo of %d bytes type %v: got %d bytes type %v", n, typ, len(got), gotTyp)
					}
				}
			}
		})
	}
}

func TestManyConns(t *testing.T) {
	const conns, msgs = 1000, 5
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			ts := start(t, mode, newRecorder(t), Options{})
			ctx := testCtx(t)
			var wg sync.WaitGroup
			errs := make(chan error, conns)
			for i := range conns {
				wg.Go(func() {
					c, _, err := websocket.Dial(ctx, ts.url, nil)
					if err != nil {
						errs <- err
						return
					}
					defer c.CloseNow()
					for j := range msgs {
						want := fmt.Sprintf("conn %d msg %d", i, j)
						if err := c.Write(ctx, websocket.MessageText, []byte(want)); err != nil {
							errs <- err
							return
						}
						_, got, err := c.Read(ctx)
						if err != nil {
							errs <- err
							return
						}
						if string(got) != want {
							errs <- fmt.Errorf("got %q, want %q", got, want)
							return
						}
					}
					if err := c.Close(websocket.StatusNormalClosure, ""); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestMessageOrder(t *testing.T) {
	const n = 500
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			var mu sync.Mutex
			var got []int
			done := make(chan struct{})
			h.onMessage = func(c *Conn, text bool, data []byte) {
				i, _ := strconv.Atoi(string(data))
				mu.Lock()
				got = append(got, i)
				if len(got) == n {
					close(done)
				}
				mu.Unlock()
			}
			ts := start(t, mode, h, Options{Workers: 4})
			c := dial(t, ts)
			ctx := testCtx(t)
			for i := range n {
				if err := c.Write(ctx, websocket.MessageText, []byte(strconv.Itoa(i))); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case <-done:
			case <-ctx.Done():
				t.Fatal("messages did not arrive")
			}
			mu.Lock()
			defer mu.Unlock()
			for i, v := range got {
				if v != i {
					t.Fatalf("message %d: got %d, want %d", i, v, i)
				}
			}
		})
	}
}

func TestPingPong(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			ts := start(t, mode, newRecorder(t), Options{})
			rc := dialRaw(t, ts.addr, nil)
			rc.send(t, frame(fin|opPing, []byte("are you there"), true))
			op, p, err := rc.read()
			if err != nil || op != opPong || string(p) != "are you there" {
				t.Fatalf("got op %x %q %v, want pong with the ping's payload", op, p, err)
			}

			c := dial(t, ts)
			ctx := c.CloseRead(testCtx(t))
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("library ping: %v", err)
			}
		})
	}
}

func TestCloseHandshake(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			h.onMessage = func(c *Conn, text bool, data []byte) {
				if string(data) == "close me" {
					c.Close(4001, "as you wish")
					c.Close(4002, "ignored: Close is idempotent")
					if err := c.WriteText([]byte("late")); !errors.Is(err, ErrClosed) {
						t.Errorf("write after Close: got %v, want ErrClosed", err)
					}
				}
			}
			ts := start(t, mode, h, Options{})

			t.Run("client_closes", func(t *testing.T) {
				c := dial(t, ts)
				if err := c.Close(4000, "bye"); err != nil {
					t.Fatalf("client Close: %v (want the server to echo the close)", err)
				}
				if ev := h.next(t); ev.code != 4000 || ev.err != nil {
					t.Errorf("OnClose: got %d %v, want 4000 <nil>", ev.code, ev.err)
				}
			})
			t.Run("server_closes", func(t *testing.T) {
				c := dial(t, ts)
				ctx := testCtx(t)
				if err := c.Write(ctx, websocket.MessageText, []byte("close me")); err != nil {
					t.Fatal(err)
				}
				_, _, err := c.Read(ctx)
				if got := websocket.CloseStatus(err); got != 4001 {
					t.Errorf("client read: got status %d (%v), want 4001", got, err)
				}
				if ev := h.next(t); ev.code != 4001 || ev.err != nil {
					t.Errorf("OnClose: got %d %v, want 4001 <nil>", ev.code, ev.err)
				}
			})
			t.Run("empty_close", func(t *testing.T) {
				rc := dialRaw(t, ts.addr, nil)
				rc.send(t, frame(fin|opClose, nil, true))
				if got := rc.expectClose(t); got != CloseNoStatus {
					t.Errorf("echo: got %d, want an empty close frame", got)
				}
				if ev := h.next(t); ev.code != CloseNoStatus || ev.err != nil {
					t.Errorf("OnClose: got %d %v, want %d <nil>", ev.code, ev.err, CloseNoStatus)
				}
			})
		})
	}
}

func TestCloseInOnOpen(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			h.onOpen = func(c *Conn, r *http.Request) { c.Close(4003, "not today") }
			h.onMessage = func(c *Conn, text bool, data []byte) { t.Errorf("OnMessage %q after Close in OnOpen", data) }
			ts := start(t, mode, h, Options{})
			// A frame pipelined with the request must not reach OnMessage.
			rc := dialRaw(t, ts.addr, frame(fin|opText, []byte("early"), true))
			if got := rc.expectClose(t); got != 4003 {
				t.Errorf("close frame: got %d, want 4003", got)
			}
			if ev := h.next(t); ev.code != 4003 || ev.err != nil {
				t.Errorf("OnClose: got %d %v, want 4003 <nil>", ev.code, ev.err)
			}
		})
	}
}

// Frames that must make the server fail the connection with a given code.
func TestBadFrames(t *testing.T) {
	closeWith := func(code int, reason string) []byte {
		return binary16(code, reason)
	}
	tests := []struct {
		name   string
		frames [][]byte
		want   int
	}{
		{
			name:   "unmasked",
			frames: [][]byte{frame(fin|opText, []byte("hi"), false)},
			want:   CloseProtocolError,
		},
		{
			name:   "rsv1",
			frames: [][]byte{frame(fin|0x40|opText, []byte("hi"), true)},
			want:   CloseProtocolError,
		},
		{
			name:   "reserved_opcode",
			frames: [][]byte{frame(fin|0x3, []byte("hi"), true)},
			want:   CloseProtocolError,
		},
		{
			name:   "reserved_control_opcode",
			frames: [][]byte{frame(fin|0xb, nil, true)},
			want:   CloseProtocolError,
		},
		{
			name:   "continuation_first",
			frames: [][]byte{frame(fin|opCont, []byte("hi"), true)},
			want:   CloseProtocolError,
		},
		{
			name:   "new_message_inside_fragmented",
			frames: [][]byte{frame(opText, []byte("a"), true), frame(fin|opText, []byte("b"), true)},
			want:   CloseProtocolError,
		},
		{
			name:   "fragmented_ping",
			frames: [][]byte{frame(opPing, nil, true)},
			want:   CloseProtocolError,
		},
		{
			name:   "long_ping",
			frames: [][]byte{frame(fin|opPing, make([]byte, 126), true)},
			want:   CloseProtocolError,
		},
		{
			name:   "close_one_byte",
			frames: [][]byte{frame(fin|opClose, []byte{3}, true)},
			want:   CloseProtocolError,
		},
		{
			name:   "close_code_1005_on_wire",
			frames: [][]byte{frame(fin|opClose, closeWith(1005, ""), true)},
			want:   CloseProtocolError,
		},
		{
			name:   "close_reason_bad_utf8",
			frames: [][]byte{frame(fin|opClose, closeWith(1000, "\xff"), true)},
			want:   CloseInvalidPayload,
		},
		{
			name:   "invalid_utf8",
			frames: [][]byte{frame(fin|opText, []byte("ok \xc3\x28"), true)},
			want:   CloseInvalidPayload,
		},
		{
			name:   "invalid_utf8_fragmented",
			frames: [][]byte{frame(opText, []byte("\xe2\x82"), true), frame(fin|opCont, []byte("\x28"), true)},
			want:   CloseInvalidPayload,
		},
		{
			name:   "too_big",
			frames: [][]byte{frame(fin|opBinary, make([]byte, 1025), true)},
			want:   CloseTooBig,
		},
		{
			name:   "too_big_fragmented",
			frames: [][]byte{frame(opBinary, make([]byte, 1000), true), frame(fin|opCont, make([]byte, 25), true)},
			want:   CloseTooBig,
		},
		{
			name:   "length_msb",
			frames: [][]byte{{fin | opBinary, 0x80 | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}},
			want:   CloseProtocolError,
		},
	}
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			ts := start(t, mode, h, Options{MaxMessageSize: 1024})
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					rc := dialRaw(t, ts.addr, nil)
					rc.send(t, tt.frames...)
					if got := rc.expectClose(t); got != tt.want {
						t.Errorf("close frame: got %d, want %d", got, tt.want)
					}
					if ev := h.next(t); ev.code != tt.want || ev.err == nil {
						t.Errorf("OnClose: got %d %v, want %d and a cause", ev.code, ev.err, tt.want)
					}
				})
			}
		})
	}
}

func binary16(code int, reason string) []byte {
	return append([]byte{byte(code >> 8), byte(code)}, reason...)
}

func TestOversizedWithLibraryClient(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			ts := start(t, mode, h, Options{MaxMessageSize: 1024})
			c := dial(t, ts)
			ctx := testCtx(t)
			// Big enough that most of it is still unread when the server
			// closes, which is what linger exists for.
			if err := c.Write(ctx, websocket.MessageBinary, make([]byte, 256<<10)); err != nil {
				t.Fatal(err)
			}
			_, _, err := c.Read(ctx)
			if got := websocket.CloseStatus(err); got != CloseTooBig {
				t.Errorf("client read: got status %d (%v), want 1009", got, err)
			}
			if ev := h.next(t); ev.code != CloseTooBig || !errors.Is(ev.err, ErrMessageTooBig) {
				t.Errorf("OnClose: got %d %v, want 1009 ErrMessageTooBig", ev.code, ev.err)
			}
		})
	}
}

func TestFragmented(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			ts := start(t, mode, newRecorder(t), Options{})
			ctx := testCtx(t)

			c := dial(t, ts)
			w, err := c.Writer(ctx, websocket.MessageText)
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range []string{"hel", "", "lo ", "wörld", string(bytes.Repeat([]byte("x"), 5000))} {
				if _, err := w.Write([]byte(part)); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, got, err := c.Read(ctx)
			if want := "hello wörld" + string(bytes.Repeat([]byte("x"), 5000)); err != nil || string(got) != want {
				t.Fatalf("got %d bytes %v, want %d bytes", len(got), err, len(want))
			}

			// A ping between fragments is answered at once; a rune split
			// across fragments is still valid UTF-8.
			rc := dialRaw(t, ts.addr, nil)
			rc.send(t,
				frame(opText, []byte("\xe2\x82"), true),
				frame(fin|opPing, []byte("p"), true),
				frame(fin|opCont, []byte("\xac!"), true),
			)
			for _, want := range []struct {
				op   byte
				data string
			}{{opPong, "p"}, {opText, "€!"}} {
				op, p, err := rc.read()
				if err != nil || op != want.op || string(p) != want.data {
					t.Fatalf("got op %x %q %v, want op %x %q", op, p, err, want.op, want.data)
				}
			}
		})
	}
}

func TestIdleTimeout(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			ts := start(t, mode, h, Options{IdleTimeout: 30 * time.Millisecond})
			c := dial(t, ts)
			_, _, err := c.Read(testCtx(t))
			if got := websocket.CloseStatus(err); got != CloseGoingAway {
				t.Errorf("client read: got status %d (%v), want 1001", got, err)
			}
			if ev := h.next(t); ev.code != CloseGoingAway || !errors.Is(ev.err, ErrIdleTimeout) {
				t.Errorf("OnClose: got %d %v, want 1001 ErrIdleTimeout", ev.code, ev.err)
			}
		})
	}
}

// The sweep decides on lastRead alone; driving it by hand checks that it
// spares recent connections without depending on timing.
func TestSweepSparesRecent(t *testing.T) {
	h := newRecorder(t)
	opened := make(chan *Conn, 2)
	h.onOpen = func(c *Conn, r *http.Request) { opened <- c }
	ts := start(t, modes()[0], h, Options{IdleTimeout: time.Hour})
	dialRaw(t, ts.addr, nil)
	dialRaw(t, ts.addr, nil)
	stale, fresh := <-opened, <-opened
	stale.lastRead.Store(ts.now() - int64(2*time.Hour))
	ts.sweep(nil)
	if ev := h.next(t); ev.c != stale || ev.code != CloseGoingAway {
		t.Errorf("OnClose: got conn %d code %d, want the stale conn %d with 1001", ev.c.id, ev.code, stale.id)
	}
	if fresh.closed.Load() || ts.Len() != 1 {
		t.Errorf("sweep closed a recent conn; Len = %d, want 1", ts.Len())
	}
}

// A frame that starts and never finishes must not hold a worker forever.
func TestReadTimeout(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			ts := start(t, mode, h, Options{ReadTimeout: 30 * time.Millisecond, Workers: 1})
			expectReadTimeout(t, h, dialRaw(t, ts.addr, nil))
		})
	}
}

// expectReadTimeout starts a frame on c that never finishes and checks
// that the server closes c for it.
func expectReadTimeout(t *testing.T, h *recorder, c *rawClient) {
	t.Helper()
	c.send(t, frame(fin|opText, []byte("hello"), true)[:4])
	if got := c.expectClose(t); got != ClosePolicyViolation {
		t.Errorf("close frame: got %d, want 1008", got)
	}
	if ev := h.next(t); ev.code != ClosePolicyViolation || !errors.Is(ev.err, ErrReadTimeout) {
		t.Errorf("OnClose: got %d %v, want 1008 ErrReadTimeout", ev.code, ev.err)
	}
}

// The read deadline is moved only when half of ReadTimeout is left of it:
// a connection that was silent for longer than ReadTimeout still has a
// whole frame read, and a frame begun later still times out.
func TestReadTimeoutAfterSilence(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			ts := start(t, mode, h, Options{ReadTimeout: 30 * time.Millisecond, Workers: 1})
			c := dialRaw(t, ts.addr, nil)
			for i, msg := range []string{"first", "after silence"} {
				if i > 0 {
					time.Sleep(80 * time.Millisecond) // past the deadline set for the first frame
				}
				c.send(t, frame(fin|opText, []byte(msg), true))
				if op, got, err := c.read(); err != nil || op != opText || string(got) != msg {
					t.Fatalf("echo of %q: %x %q %v", msg, op, got, err)
				}
			}
			expectReadTimeout(t, h, c) // right after a frame, with the deadline just moved
		})
	}
}

func TestSlowConsumer(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			writeErrs := make(chan error, 8)
			h.onOpen = func(c *Conn, r *http.Request) {
				// Several writers, so that more than one write fails and
				// races to close the connection.
				for range cap(writeErrs) {
					go func() {
						msg := make([]byte, 64<<10)
						for {
							if err := c.WriteBinary(msg); err != nil {
								writeErrs <- err
								return
							}
						}
					}()
				}
			}
			ts := start(t, mode, h, Options{WriteTimeout: 30 * time.Millisecond})
			dialRaw(t, ts.addr, nil) // and never read
			ev := h.next(t)
			if ev.code != ClosePolicyViolation || !errors.Is(ev.err, ErrWriteTimeout) {
				t.Errorf("OnClose: got %d %v, want 1008 ErrWriteTimeout", ev.code, ev.err)
			}
			for range cap(writeErrs) {
				select {
				case err := <-writeErrs:
					if !errors.Is(err, ErrWriteTimeout) && !errors.Is(err, ErrClosed) {
						t.Errorf("write: got %v, want ErrWriteTimeout or ErrClosed", err)
					}
				case <-time.After(wait):
					t.Fatal("a writer is still blocked after the conn closed")
				}
			}
			// checkAllClosed (cleanup) verifies OnClose ran once.
		})
	}
}

func TestConcurrentWrites(t *testing.T) {
	const writers, each = 20, 50
	padLen := func(g, i int) int {
		if i%25 == 0 {
			return 66_000 + g
		}
		return (g*each + i) * 37 % 300
	}
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			h.onOpen = func(c *Conn, r *http.Request) {
				for g := range writers {
					go func() {
						for i := range each {
							// Lengths cross the 7-bit and 16-bit encodings. The
							// few large frames stay under the write queue's cap
							// (4 MiB) even if the reader drains nothing
							// meanwhile, so a slow machine cannot trip it.
							pad := bytes.Repeat([]byte{'.'}, padLen(g, i))
							if c.WriteText(fmt.Appendf(nil, "%d %d %s", g, i, pad)) != nil {
								return
							}
						}
					}()
				}
			}
			ts := start(t, mode, h, Options{})
			c := dial(t, ts)
			ctx := testCtx(t)
			next := make([]int, writers)
			for range writers * each {
				_, msg, err := c.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				parts := bytes.SplitN(msg, []byte(" "), 3)
				if len(parts) != 3 {
					t.Fatalf("garbled message %.40q", msg)
				}
				g, err1 := strconv.Atoi(string(parts[0]))
				i, err2 := strconv.Atoi(string(parts[1]))
				if err1 != nil || err2 != nil || g < 0 || g >= writers {
					t.Fatalf("garbled message %.40q", msg)
				}
				if want := padLen(g, i); len(parts[2]) != want || bytes.Count(parts[2], []byte{'.'}) != want {
					t.Fatalf("message %d/%d: %d bytes of padding, want %d dots", g, i, len(parts[2]), want)
				}
				if i != next[g] {
					t.Fatalf("writer %d: got message %d, want %d", g, i, next[g])
				}
				next[g]++
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	const conns = 20
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			ts := start(t, mode, h, Options{})
			var cs []*websocket.Conn
			for range conns {
				cs = append(cs, dial(t, ts))
			}
			// Make sure every conn is past OnOpen and registered.
			for _, c := range cs {
				if err := c.Write(testCtx(t), websocket.MessageText, []byte("hi")); err != nil {
					t.Fatal(err)
				}
				if _, _, err := c.Read(testCtx(t)); err != nil {
					t.Fatal(err)
				}
			}
			ts.stop(t)
			if n := ts.Len(); n != 0 {
				t.Errorf("Len after Run returned: got %d, want 0", n)
			}
			h.mu.Lock()
			if len(h.closes) != conns {
				t.Errorf("OnClose calls when Run returned: got %d, want %d", len(h.closes), conns)
			}
			for _, ev := range h.closes {
				if ev.code != CloseGoingAway || !errors.Is(ev.err, ErrServerClosed) {
					t.Errorf("OnClose: got %d %v, want 1001 ErrServerClosed", ev.code, ev.err)
				}
			}
			h.mu.Unlock()
			for _, c := range cs {
				_, _, err := c.Read(testCtx(t))
				if got := websocket.CloseStatus(err); got != CloseGoingAway {
					t.Errorf("client read: got status %d (%v), want 1001", got, err)
				}
			}
			rec := httptest.NewRecorder()
			ts.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			if rec.Code != http.StatusServiceUnavailable {
				t.Errorf("ServeHTTP after shutdown: got %d, want 503", rec.Code)
			}
		})
	}
}

// Frames sent in the same segment as the upgrade request sit in net/http's
// buffer at hijack time and must not be lost.
func TestPipelinedAfterHandshake(t *testing.T) {
	big := bytes.Repeat([]byte("z"), 3000)
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			ts := start(t, mode, newRecorder(t), Options{})
			early := append(frame(fin|opText, []byte("early"), true), frame(fin|opPing, []byte("p"), true)...)
			// More than net/http's 4 KiB buffer holds, ending mid-frame.
			for range 3 {
				early = append(early, frame(fin|opBinary, big, true)...)
			}
			rc := dialRaw(t, ts.addr, early)
			want := []struct {
				op   byte
				data string
			}{{opText, "early"}, {opPong, "p"}, {opBinary, string(big)}, {opBinary, string(big)}, {opBinary, string(big)}}
			for _, w := range want {
				op, p, err := rc.read()
				if err != nil || op != w.op || string(p) != w.data {
					t.Fatalf("got op %x %d bytes %v, want op %x %d bytes", op, len(p), err, w.op, len(w.data))
				}
			}
		})
	}
}

func TestHandlerPanic(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			h.onMessage = func(c *Conn, text bool, data []byte) {
				if string(data) == "panic" {
					panic("boom")
				}
				echo(c, text, data)
			}
			ts := start(t, mode, h, Options{})
			c := dial(t, ts)
			ctx := testCtx(t)
			if err := c.Write(ctx, websocket.MessageText, []byte("panic")); err != nil {
				t.Fatal(err)
			}
			_, _, err := c.Read(ctx)
			if got := websocket.CloseStatus(err); got != CloseInternalError {
				t.Errorf("client read: got status %d (%v), want 1011", got, err)
			}
			if ev := h.next(t); ev.code != CloseInternalError || !errors.Is(ev.err, ErrHandlerPanic) {
				t.Errorf("OnClose: got %d %v, want 1011 ErrHandlerPanic", ev.code, ev.err)
			}
			// The server still serves others.
			c2 := dial(t, ts)
			if err := c2.Write(ctx, websocket.MessageText, []byte("fine")); err != nil {
				t.Fatal(err)
			}
			if _, got, err := c2.Read(ctx); err != nil || string(got) != "fine" {
				t.Fatalf("got %q %v, want echo", got, err)
			}
		})
	}
}

func TestCheckOrigin(t *testing.T) {
	h := newRecorder(t)
	ts := start(t, modes()[0], h, Options{CheckOrigin: func(r *http.Request) bool {
		return r.Header.Get("Origin") == "https://parley.example"
	}})
	_, resp, err := websocket.Dial(testCtx(t), ts.url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"https://evil.example"}},
	})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("got %v, want a 403", err)
	}
	c, _, err := websocket.Dial(testCtx(t), ts.url, &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"https://parley.example"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	c.CloseNow()
}

func TestValue(t *testing.T) {
	h := newRecorder(t)
	var seen atomic.Value
	h.onOpen = func(c *Conn, r *http.Request) { c.SetValue(r.URL.Query().Get("user")) }
	h.onMessage = func(c *Conn, text bool, data []byte) {
		seen.Store(c.Value())
		_ = c.WriteText(data)
	}
	ts := start(t, modes()[0], h, Options{})
	c, _, err := websocket.Dial(testCtx(t), ts.url+"/?user=ana", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if err := c.Write(testCtx(t), websocket.MessageText, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Read(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if got := seen.Load(); got != "ana" {
		t.Errorf("Value: got %v, want ana", got)
	}
}

func TestNewServerRejectsNegativeOptions(t *testing.T) {
	for _, o := range []Options{{MaxMessageSize: -1}, {IdleTimeout: -1}, {Workers: -1}} {
		if _, err := NewServer(newRecorder(t), o); err == nil {
			t.Errorf("NewServer(%+v): got nil error", o)
		}
	}
}

func TestRunTwice(t *testing.T) {
	s, err := NewServer(newRecorder(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if err := s.Run(ctx); err == nil {
		t.Error("second Run: got nil error")
	}
}

// ws.Cipher has hand-written assembly; check it against the definition.
func TestCipherMatchesDefinition(t *testing.T) {
	mask := [4]byte{0xde, 0xad, 0xbe, 0xef}
	for n := range 200 {
		for off := range 4 {
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(i * 7)
			}
			want := make([]byte, n)
			for i := range p {
				want[i] = p[i] ^ mask[(off+i)%4]
			}
			ws.Cipher(p, mask, off)
			if !bytes.Equal(p, want) {
				t.Fatalf("Cipher(len %d, offset %d) differs from the definition", n, off)
			}
		}
	}
}

// Frames written while a connection is held wait in its queue (past
// maxHeld they go out anyway) and arrive in order after Release.
func TestHoldRelease(t *testing.T) {
	for _, mode := range modes() {
		t.Run(mode, func(t *testing.T) {
			h := newRecorder(t)
			queued := make(chan [2]int, 1)
			big := bytes.Repeat([]byte("x"), 1000)
			h.onMessage = func(c *Conn, text bool, data []byte) {
				c.Hold()
				for i := range 10 {
					c.WriteText([]byte(strconv.Itoa(i)))
				}
				c.qmu.Lock()
				small := len(c.queue)
				c.qmu.Unlock()
				for range 2 * maxHeld / len(big) { // more than maxHeld: written while held
					c.WriteText(big)
				}
				c.qmu.Lock()
				rest := len(c.queue)
				c.qmu.Unlock()
				queued <- [2]int{small, rest}
				c.WriteText([]byte("last"))
				if err := c.Release(); err != nil {
					t.Errorf("Release: %v", err)
				}
				c.Release() // a second Release writes nothing more
			}
			ts := start(t, mode, h, Options{})
			c := dial(t, ts)
			ctx := testCtx(t)
			if err := c.Write(ctx, websocket.MessageText, []byte("go")); err != nil {
				t.Fatal(err)
			}
			q := <-queued
			if q[0] == 0 {
				t.Errorf("nothing queued while held")
			}
			if q[1] >= maxHeld+len(big)+10 {
				t.Errorf("%d bytes queued while held, want them written past maxHeld (%d)", q[1], maxHeld)
			}
			for i := range 10 {
				_, got, err := c.Read(ctx)
				if err != nil || string(got) != strconv.Itoa(i) {
					t.Fatalf("frame %d = %q, %v", i, got, err)
				}
			}
			for i := range 2 * maxHeld / len(big) {
				if _, got, err := c.Read(ctx); err != nil || !bytes.Equal(got, big) {
					t.Fatalf("large frame %d: %d bytes, %v", i, len(got), err)
				}
			}
			if _, got, err := c.Read(ctx); err != nil || string(got) != "last" {
				t.Fatalf("last frame = %q, %v", got, err)
			}
		})
	}
}
