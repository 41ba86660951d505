package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/parley-chat/parley/app"
	"github.com/parley-chat/parley/sdk"
	"github.com/parley-chat/parley/service"
)

// testServer is a real node on 127.0.0.1 with SQLite in a temp dir (or
// PostgreSQL when database is set).
type testServer struct {
	t        *testing.T
	dir      string
	addr     string
	database string
	m        *app.Main
	stop     context.CancelFunc
	done     chan error
}

func testLogger() *slog.Logger {
	if os.Getenv("PARLEY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func startServer(t *testing.T) *testServer {
	t.Helper()
	return startServerOn(t, "")
}

// startServerOn starts a node on database (a PostgreSQL DSN; empty:
// SQLite in the data dir).
func startServerOn(t *testing.T, database string) *testServer {
	t.Helper()
	s := &testServer{t: t, dir: t.TempDir(), addr: "127.0.0.1:0", database: database}
	s.start()
	t.Cleanup(s.shutdown)
	return s
}

func (s *testServer) start() {
	s.t.Helper()
	m := app.New(app.Config{
		Addr: s.addr, DataDir: s.dir, Database: s.database, Dev: true, Logger: testLogger(),
		Limits: service.Limits{RequestsPerIP: 10000, CodesPerNumber: 100, CodeInterval: time.Millisecond},
	})
	var err error
	for range 50 { // the port of a restarted node may take a moment to free
		if err = m.Start(context.Background()); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
		m = app.New(app.Config{
			Addr: s.addr, DataDir: s.dir, Database: s.database, Dev: true, Logger: testLogger(),
			Limits: service.Limits{RequestsPerIP: 10000, CodesPerNumber: 100, CodeInterval: time.Millisecond},
		})
	}
	if err != nil {
		s.t.Fatalf("start server: %v", err)
	}
	s.m, s.addr = m, m.Addr()
	ctx, cancel := context.WithCancel(context.Background())
	s.stop, s.done = cancel, make(chan error, 1)
	go func() { s.done <- m.Run(ctx) }()
}

// shutdown stops the node gracefully (connections close with 1001).
func (s *testServer) shutdown() {
	if s.m == nil {
		return
	}
	s.stop()
	if err := <-s.done; err != nil {
		s.t.Errorf("server run: %v", err)
	}
	s.m.Close()
	s.m = nil
}

// restart stops the node and starts a new one on the same address and data.
func (s *testServer) restart() {
	s.t.Helper()
	s.shutdown()
	s.start()
}

func (s *testServer) URL() string { return "http://" + s.addr }

// register makes a new device of phone and returns its credentials.
func (s *testServer) register(phone, name string) *sdk.Credentials {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := sdk.RequestCode(ctx, s.URL(), phone); err != nil {
		s.t.Fatalf("request code for %s: %v", phone, err)
	}
	creds, err := sdk.Verify(ctx, s.URL(), phone, s.code(phone), name, "test")
	if err != nil {
		s.t.Fatalf("verify %s: %v", phone, err)
	}
	return creds
}

// code returns the last code sent to phone (+E.164).
func (s *testServer) code(phone string) string {
	s.t.Helper()
	acct, err := sdk.AccountID(phone)
	if err != nil {
		s.t.Fatal(err)
	}
	text, _, err := s.m.Store().LastSMS(context.Background(), acct)
	if err != nil {
		s.t.Fatalf("last SMS to %s: %v", phone, err)
	}
	if len(text) < 6 {
		s.t.Fatalf("SMS %q has no code", text)
	}
	return text[len(text)-6:]
}

// dropper records the TCP connections of an HTTP client so a test can cut
// them as a network failure would, or freeze them (nothing arrives any
// more, as behind a dead NAT mapping).
type dropper struct {
	mu     sync.Mutex
	conns  []net.Conn
	frozen chan struct{} // closed: reads block until the conn is closed
}

type freezableConn struct {
	net.Conn
	d      *dropper
	closed chan struct{}
	once   sync.Once
}

func (c *freezableConn) Read(p []byte) (int, error) {
	c.d.mu.Lock()
	frozen := c.d.frozen
	c.d.mu.Unlock()
	if frozen != nil {
		<-c.closed
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

func (c *freezableConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

func (d *dropper) freeze() {
	d.mu.Lock()
	d.frozen = make(chan struct{})
	d.mu.Unlock()
}

func (d *dropper) client() *http.Client {
	var nd net.Dialer
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			fc := &freezableConn{Conn: c, d: d, closed: make(chan struct{})}
			d.mu.Lock()
			d.conns = append(d.conns, fc)
			d.mu.Unlock()
			return fc, nil
		},
	}}
}

func (d *dropper) drop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.Close()
	}
	d.conns = nil
}

// device is a running Messenger.
type device struct {
	t    *testing.T
	m    *sdk.Messenger
	stop context.CancelFunc
	done chan error
}

// states keeps each test device's Signal state across Messengers, so a
// device that is run again (after a restart) keeps its keys.
var states sync.Map // server URL + device address → *sdk.MemoryState

// signalCipher opens the Signal state of a test device, creating and
// publishing keys the first time (as `parley chat register` does).
func signalCipher(t *testing.T, creds *sdk.Credentials) *sdk.SignalCipher {
	t.Helper()
	st, _ := states.LoadOrStore(creds.Server+"/"+creds.Account+"."+fmt.Sprint(creds.Device), &sdk.MemoryState{})
	c, err := sdk.OpenSignalCipher(sdk.NewClient(*creds), st.(*sdk.MemoryState), testLogger())
	if err != nil {
		t.Fatalf("open signal state of %s.%d: %v", creds.Account, creds.Device, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.MaintainKeys(ctx); err != nil {
		t.Fatalf("publish keys of %s.%d: %v", creds.Account, creds.Device, err)
	}
	return c
}

// run starts a Messenger for creds; without a Cipher in opt it uses a
// SignalCipher (end-to-end encryption, as applications do).
func run(t *testing.T, creds *sdk.Credentials, opt sdk.Options) *device {
	t.Helper()
	if opt.Cipher == nil {
		opt.Cipher = signalCipher(t, creds)
	}
	if opt.MinBackoff == 0 {
		opt.MinBackoff, opt.MaxBackoff = 20*time.Millisecond, 300*time.Millisecond
	}
	opt.Logger = testLogger()
	m := sdk.NewMessenger(*creds, opt)
	ctx, cancel := context.WithCancel(context.Background())
	d := &device{t: t, m: m, stop: cancel, done: make(chan error, 1)}
	go func() { d.done <- m.Run(ctx) }()
	t.Cleanup(func() { d.close() })
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	defer wcancel()
	if err := m.WaitConnected(wctx); err != nil {
		t.Fatalf("connect %s.%d: %v", creds.Account, creds.Device, err)
	}
	return d
}

// close stops the Messenger and returns Run's result.
func (d *device) close() error {
	d.stop()
	select {
	case err := <-d.done:
		d.done <- err
		return err
	case <-time.After(15 * time.Second):
		d.t.Errorf("Messenger.Run did not return")
		return errors.New("timeout")
	}
}

func (d *device) send(to, text string) string {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := d.m.SendText(ctx, to, text)
	if err != nil {
		d.t.Fatalf("send %q: %v", text, err)
	}
	return id
}

// next returns the next message or receipt (typing, presence and device
// changes are skipped), failing after a timeout.
func (d *device) next() sdk.Event {
	d.t.Helper()
	return d.nextWithin(10 * time.Second)
}

func (d *device) nextWithin(timeout time.Duration) sdk.Event {
	d.t.Helper()
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		select {
		case ev, ok := <-d.m.Events():
			if !ok {
				d.t.Fatalf("events closed")
			}
			switch ev.(type) {
			case *sdk.Message, *sdk.Receipt:
				return ev
			}
		case <-t.C:
			d.t.Fatalf("no event within %s", timeout)
		}
	}
}

// none asserts that no message or receipt arrives within d.
func (d *device) none(within time.Duration) {
	d.t.Helper()
	t := time.NewTimer(within)
	defer t.Stop()
	for {
		select {
		case ev := <-d.m.Events():
			switch e := ev.(type) {
			case *sdk.Message:
				d.t.Fatalf("unexpected message %s %q", e.ID, e.Text)
			case *sdk.Receipt:
				d.t.Fatalf("unexpected %s receipt for %s", e.Kind, e.MessageID)
			}
		case <-t.C:
			return
		}
	}
}

func (d *device) message() *sdk.Message {
	d.t.Helper()
	ev := d.next()
	m, ok := ev.(*sdk.Message)
	if !ok {
		d.t.Fatalf("got %#v, want a message", ev)
	}
	return m
}

func (d *device) receipt() *sdk.Receipt {
	d.t.Helper()
	ev := d.next()
	r, ok := ev.(*sdk.Receipt)
	if !ok {
		d.t.Fatalf("got %#v, want a receipt", ev)
	}
	return r
}

func ack(t *testing.T, ev sdk.Event) {
	t.Helper()
	if err := ev.Ack(); err != nil {
		t.Fatalf("ack: %v", err)
	}
}
