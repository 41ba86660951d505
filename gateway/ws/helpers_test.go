package ws

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// wait bounds every blocking step of a test; nothing here should take
// more than a fraction of it.
const wait = 10 * time.Second

// modes are the two ways a connection can be served. Both run on Linux so
// the read loop used elsewhere is tested here too.
func modes() []string {
	if newPollerOK() {
		return []string{"epoll", "loop"}
	}
	return []string{"loop"}
}

func newPollerOK() bool {
	p, err := newPoller()
	if p == nil || err != nil {
		return false
	}
	p.close()
	return true
}

type closeEvent struct {
	c    *Conn
	code int
	err  error
}

// recorder is a Handler that logs events and checks the ordering contract.
type recorder struct {
	onOpen    func(c *Conn, r *http.Request)
	onMessage func(c *Conn, text bool, data []byte)

	mu       sync.Mutex
	t        *testing.T
	state    map[*Conn]string // "open", "closed"
	inFlight map[*Conn]bool
	closes   []closeEvent
	closed   chan closeEvent
}

func newRecorder(t *testing.T) *recorder {
	return &recorder{
		t:        t,
		state:    map[*Conn]string{},
		inFlight: map[*Conn]bool{},
		closed:   make(chan closeEvent, 4096),
	}
}

func (h *recorder) OnOpen(c *Conn, r *http.Request) {
	h.mu.Lock()
	if h.state[c] != "" {
		h.t.Errorf("OnOpen for a conn in state %q", h.state[c])
	}
	h.state[c] = "open"
	h.mu.Unlock()
	if h.onOpen != nil {
		h.onOpen(c, r)
	}
}

func (h *recorder) OnMessage(c *Conn, text bool, data []byte) {
	h.mu.Lock()
	if h.state[c] != "open" {
		h.t.Errorf("OnMessage in state %q", h.state[c])
	}
	if h.inFlight[c] {
		h.t.Errorf("overlapping OnMessage calls for one conn")
	}
	h.inFlight[c] = true
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.inFlight[c] = false
		h.mu.Unlock()
	}()
	if h.onMessage != nil {
		h.onMessage(c, text, data)
	} else {
		echo(c, text, data)
	}
}

func (h *recorder) OnClose(c *Conn, code int, err error) {
	h.mu.Lock()
	if h.state[c] != "open" {
		h.t.Errorf("OnClose in state %q", h.state[c])
	}
	if h.inFlight[c] {
		h.t.Errorf("OnClose during OnMessage")
	}
	h.state[c] = "closed"
	ev := closeEvent{c, code, err}
	h.closes = append(h.closes, ev)
	h.mu.Unlock()
	h.closed <- ev
}

// next returns the next OnClose event.
func (h *recorder) next(t *testing.T) closeEvent {
	t.Helper()
	select {
	case ev := <-h.closed:
		return ev
	case <-time.After(wait):
		t.Fatal("no OnClose")
		return closeEvent{}
	}
}

// checkAllClosed verifies that every opened conn got exactly one OnClose.
func (h *recorder) checkAllClosed(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for c, st := range h.state {
		if st != "closed" {
			t.Errorf("conn %d: state %q after Run returned, want closed", c.id, st)
		}
	}
	if len(h.closes) != len(h.state) {
		t.Errorf("got %d OnClose calls for %d conns", len(h.closes), len(h.state))
	}
}

func echo(c *Conn, text bool, data []byte) {
	if text {
		_ = c.WriteText(data)
	} else {
		_ = c.WriteBinary(data)
	}
}

type testServer struct {
	*Server
	h      *recorder
	url    string // ws://
	addr   string // host:port
	cancel context.CancelFunc
	done   chan error
}

// start runs a Server behind httptest in the given mode and shuts it down
// at the end of the test, checking the OnClose contract.
func start(t *testing.T, mode string, h *recorder, o Options) *testServer {
	t.Helper()
	s, err := NewServer(h, o)
	if err != nil {
		t.Fatal(err)
	}
	if mode == "loop" && s.poll != nil {
		s.poll.close()
		s.poll = nil
	}
	hs := httptest.NewServer(s)
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{
		Server: s,
		h:      h,
		url:    "ws" + strings.TrimPrefix(hs.URL, "http"),
		addr:   hs.Listener.Addr().String(),
		cancel: cancel,
		done:   make(chan error, 1),
	}
	go func() { ts.done <- s.Run(ctx) }()
	t.Cleanup(func() {
		ts.stop(t)
		hs.Close()
		h.checkAllClosed(t)
	})
	return ts
}

// stop cancels Run and waits for it.
func (ts *testServer) stop(t *testing.T) {
	t.Helper()
	ts.cancel()
	select {
	case err, ok := <-ts.done:
		if ok && err != nil {
			t.Errorf("Run: %v", err)
		}
		if ok {
			close(ts.done)
		}
	case <-time.After(wait):
		t.Fatal("Run did not return after cancel")
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	t.Cleanup(cancel)
	return ctx
}

// rawClient speaks the protocol by hand, for frames no library would send.
type rawClient struct {
	nc net.Conn
	br *bufio.Reader
}

const handshake = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// dialRaw upgrades a TCP connection; early is sent in the same write as
// the request, so it arrives with it.
func dialRaw(t *testing.T, addr string, early []byte) *rawClient {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	_ = nc.SetDeadline(time.Now().Add(wait))
	if _, err := nc.Write(append([]byte(handshake), early...)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("handshake: got %s, want 101", resp.Status)
	}
	return &rawClient{nc: nc, br: br}
}

// frame encodes a client frame. first is the first header byte (FIN, RSV,
// opcode); mask=false sends it unmasked.
func frame(first byte, payload []byte, mask bool) []byte {
	b := []byte{first, 0}
	switch n := len(payload); {
	case n < 126:
		b[1] = byte(n)
	case n <= 0xffff:
		b[1] = 126
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b[1] = 127
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !mask {
		return append(b, payload...)
	}
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	b[1] |= 0x80
	b = append(b, key[:]...)
	for i, x := range payload {
		b = append(b, x^key[i%4])
	}
	return b
}

const (
	fin      = 0x80
	opCont   = 0x0
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8
	opPing   = 0x9
	opPong   = 0xa
)

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func (rc *rawClient) send(t *testing.T, frames ...[]byte) {
	t.Helper()
	var b []byte
	for _, f := range frames {
		b = append(b, f...)
	}
	if _, err := rc.nc.Write(b); err != nil {
		t.Fatal(err)
	}
}

// read reads one server frame, which must be unmasked and final.
func (rc *rawClient) read() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(rc.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x70 != 0 || h[0]&fin == 0 || h[1]&0x80 != 0 {
		return 0, nil, fmt.Errorf("bad server frame header % x", h)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(rc.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(rc.br, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(rc.br, payload)
	return h[0] & 0x0f, payload, err
}

// expectClose reads until the server's close frame and returns its code
// (CloseNoStatus for an empty one), then expects the connection to end.
func (rc *rawClient) expectClose(t *testing.T) int {
	t.Helper()
	for {
		op, p, err := rc.read()
		if err != nil {
			t.Fatalf("waiting for close frame: %v", err)
		}
		if op != opClose {
			continue
		}
		code := CloseNoStatus
		if len(p) >= 2 {
			code = int(binary.BigEndian.Uint16(p))
		}
		if _, err := rc.br.ReadByte(); !errors.Is(err, io.EOF) {
			t.Errorf("after close frame: got %v, want EOF", err)
		}
		return code
	}
}
