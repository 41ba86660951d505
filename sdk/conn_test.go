package sdk

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// fakeServer accepts one connection, answers auth with ready, then
// sends what is put on send and passes on what it reads.
type fakeServer struct {
	*httptest.Server
	send chan string
	got  chan *Frame
}

func newFakeServer(t *testing.T) *fakeServer {
	s := &fakeServer{send: make(chan string), got: make(chan *Frame, 100)}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer ws.CloseNow()
		ctx := r.Context()
		if _, _, err := ws.Read(ctx); err != nil {
			return
		}
		if err := ws.Write(ctx, websocket.MessageText, []byte(`{"type":"ready","version":1,"account":"a","device":1}`)); err != nil {
			return
		}
		go func() {
			for {
				_, b, err := ws.Read(ctx)
				if err != nil {
					return
				}
				if f, err := DecodeFrame(b); err == nil {
					s.got <- f
				}
			}
		}()
		for {
			select {
			case m := <-s.send:
				if err := ws.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// stallingConn blocks writes once stalled, until it is closed.
type stallingConn struct {
	net.Conn
	stalled chan struct{} // closed: writes block
	closed  chan struct{}
	once    sync.Once
}

func (c *stallingConn) Write(p []byte) (int, error) {
	select {
	case <-c.stalled:
		<-c.closed
		return 0, net.ErrClosed
	default:
		return c.Conn.Write(p)
	}
}

func (c *stallingConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func dialFake(t *testing.T, s *fakeServer, hc *http.Client) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, s.URL, "tok", &DialOptions{HTTPClient: hc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseWith(CloseNormal, "") })
	return c
}

func (s *fakeServer) expect(t *testing.T, typ string) {
	t.Helper()
	select {
	case f := <-s.got:
		if f.Type != typ {
			t.Fatalf("server got %q, want %q", f.Type, typ)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("server got no %q", typ)
	}
}

// A Write that cannot get its frame out fails after writeTimeout with
// context.DeadlineExceeded, closing the connection under the Read too.
func TestWriteWatchdog(t *testing.T) {
	defer func(d time.Duration) { writeTimeout = d }(writeTimeout)
	writeTimeout = 200 * time.Millisecond
	s := newFakeServer(t)
	sc := &stallingConn{stalled: make(chan struct{}), closed: make(chan struct{})}
	var nd net.Dialer
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := nd.DialContext(ctx, network, addr)
		sc.Conn = c
		return sc, err
	}}}
	c := dialFake(t, s, hc)
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(context.Background())
		readErr <- err
	}()
	// Writes that go out keep the watchdog quiet, past writeTimeout.
	for range 3 {
		if err := c.Write(context.Background(), &Frame{Type: "ping", ID: "p"}); err != nil {
			t.Fatal(err)
		}
		s.expect(t, "ping")
		time.Sleep(writeTimeout / 2)
	}
	close(sc.stalled)
	err := c.Write(context.Background(), &Frame{Type: "ping", ID: "stuck"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stuck Write: %v, want context.DeadlineExceeded", err)
	}
	if err := <-readErr; !errors.Is(err, errWriteStuck) {
		t.Fatalf("Read on a stuck connection: %v, want errWriteStuck", err)
	}
}

// A context that ends during a Read closes the connection; one that ended
// before the call, or ends between calls, does not.
func TestConnContexts(t *testing.T) {
	s := newFakeServer(t)
	c := dialFake(t, s, nil)

	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Write(ended, &Frame{Type: "ping"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write with an ended context: %v", err)
	}
	if _, err := c.Read(ended); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read with an ended context: %v", err)
	}

	// Used, then cancelled while nothing waits on it.
	ctx1, cancel1 := context.WithCancel(context.Background())
	if err := c.Write(ctx1, &Frame{Type: "ping", ID: "1"}); err != nil {
		t.Fatal(err)
	}
	s.expect(t, "ping")
	go func() { s.send <- `{"type":"pong","id":"1"}` }()
	if f, err := c.Read(ctx1); err != nil || f.ID != "1" {
		t.Fatalf("Read: %v, %v", f, err)
	}
	cancel1()
	time.Sleep(10 * time.Millisecond) // let the AfterFunc run, if it wrongly would close
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	if err := c.Write(ctx2, &Frame{Type: "ping", ID: "2"}); err != nil {
		t.Fatalf("Write after an idle context ended: %v", err)
	}
	s.expect(t, "ping")
	go func() { s.send <- `{"type":"pong","id":"2"}` }()
	if f, err := c.Read(ctx2); err != nil || f.ID != "2" {
		t.Fatalf("Read after an idle context ended: %v, %v", f, err)
	}

	// Cancelled during a Read: the connection closes.
	ctx3, cancel3 := context.WithCancel(context.Background())
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(ctx3)
		readErr <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel3()
	if err := <-readErr; !errors.Is(err, context.Canceled) {
		t.Fatalf("Read cancelled while waiting: %v", err)
	}
	if err := c.Write(context.Background(), &Frame{Type: "ping"}); err == nil {
		t.Fatal("Write after a cancelled Read succeeded")
	}
}

// Contexts made per call and never cancelled are not kept without bound.
func TestCtxWatchBound(t *testing.T) {
	var w ctxWatch
	w.close = func() { t.Error("closed") }
	var cancels []context.CancelFunc
	for range 100 {
		ctx, cancel := context.WithCancel(context.Background())
		cancels = append(cancels, cancel)
		done, err := w.begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		w.end(done)
	}
	if n := len(w.entries); n > maxIdleWatched {
		t.Errorf("%d contexts watched, want at most %d", n, maxIdleWatched)
	}
	for _, c := range cancels {
		c()
	}
}

// countingConn counts the writes that reach it.
type countingConn struct {
	net.Conn
	mu     sync.Mutex
	writes int
	fail   error
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	fail := c.fail
	c.mu.Unlock()
	if fail != nil {
		return 0, fail
	}
	return c.Conn.Write(p)
}

// WriteFrames sends its frames in order, in one write to the network
// connection, and interleaves with concurrent Writes frame by frame.
func TestWriteFrames(t *testing.T) {
	s := newFakeServer(t)
	c := dialFake(t, s, nil)
	if c.cork == nil {
		t.Fatal("no corkConn with the default HTTP client")
	}
	cc := &countingConn{Conn: c.cork.Conn}
	c.cork.Conn = cc
	frames := []*Frame{{Type: "ping", ID: "1"}, {Type: "ping", ID: "2"}, {Type: "ping", ID: "3"}}
	if err := c.WriteFrames(context.Background(), frames); err != nil {
		t.Fatal(err)
	}
	if cc.writes != 1 {
		t.Errorf("%d writes for 3 frames, want 1", cc.writes)
	}
	for _, want := range []string{"1", "2", "3"} {
		select {
		case f := <-s.got:
			if f.ID != want {
				t.Fatalf("server got frame %q, want %q", f.ID, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("frames did not arrive")
		}
	}

	var wg sync.WaitGroup
	const n = 50
	wg.Go(func() {
		for range n {
			if err := c.WriteFrames(context.Background(), []*Frame{{Type: "ping", ID: "a"}, {Type: "ping", ID: "b"}}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Go(func() {
		for range n {
			if err := c.Write(context.Background(), &Frame{Type: "ping", ID: "w"}); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	var a, w int
	for range 3 * n {
		select {
		case f := <-s.got:
			switch f.ID {
			case "a":
				a++
				if f2 := <-s.got; f2.ID != "b" {
					t.Fatalf("frame %q between a batch's frames", f2.ID)
				}
			case "w":
				w++
			default:
				t.Fatalf("unexpected frame %q", f.ID)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("got %d batches and %d frames of %d each", a, w, n)
		}
		if a+w == 2*n {
			break
		}
	}

	// A failed write closes the connection.
	cc.mu.Lock()
	cc.fail = errors.New("broken")
	cc.mu.Unlock()
	if err := c.WriteFrames(context.Background(), frames); err == nil {
		t.Fatal("WriteFrames on a broken connection succeeded")
	}
	cc.mu.Lock()
	cc.fail = nil
	cc.mu.Unlock()
	if _, err := c.Read(context.Background()); err == nil {
		t.Fatal("Read after a failed WriteFrames succeeded")
	}
}

// Without a corkConn (another HTTP client, browsers), WriteFrames writes
// frame by frame.
func TestWriteFramesUncorked(t *testing.T) {
	s := newFakeServer(t)
	c := dialFake(t, s, &http.Client{})
	if c.cork != nil {
		t.Fatal("a corkConn under a caller's HTTP client")
	}
	if err := c.WriteFrames(context.Background(), []*Frame{{Type: "ping", ID: "1"}, {Type: "ping", ID: "2"}}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1", "2"} {
		if f := <-s.got; f.ID != want {
			t.Fatalf("server got frame %q, want %q", f.ID, want)
		}
	}
}

// ReadInto overwrites the whole frame: nothing of the last one is left.
func TestReadInto(t *testing.T) {
	s := newFakeServer(t)
	c := dialFake(t, s, nil)
	go func() {
		s.send <- `{"type":"item","seq":1,"kind":"msg","from":"a","body":"eA=="}`
		s.send <- `{"type":"keys_low"}`
		s.send <- `{"type":"error","code":"stale_devices","devices":{"a":[1]}}`
	}()
	var f Frame
	want := []Frame{
		{Type: "item", Seq: 1, Kind: "msg", From: "a", Body: []byte("x")},
		{Type: "keys_low"},
		{Type: "error", Code: "stale_devices", Devices: map[string][]uint32{"a": {1}}},
	}
	for _, w := range want {
		if err := c.ReadInto(context.Background(), &f); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(f, w) {
			t.Fatalf("ReadInto = %#v, want %#v", f, w)
		}
	}
}
