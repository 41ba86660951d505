package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// DialOptions tune a Conn. The zero value is what the protocol asks for.
type DialOptions struct {
	// HTTPClient carries the upgrade request (nil: http.DefaultClient).
	// Ignored in browsers.
	HTTPClient *http.Client
	// PingInterval is how often a ping frame is sent (25 s; the server
	// closes connections silent for 75 s).
	PingInterval time.Duration
	// DeadAfter is how long a pending Read may hear nothing, pings
	// notwithstanding, before the connection is declared dead and closed
	// (2×PingInterval+10 s).
	DeadAfter time.Duration
}

// Ready is the server's answer to authentication.
type Ready struct {
	Version    int
	Account    string
	Device     uint32
	Node       string
	ServerTime time.Time
}

// maxFrame bounds a frame from the server (the protocol's frame limit is
// 1 MiB; an item carries one copy of at most 64 KiB).
const maxFrame = 2 << 20

// writeTimeout bounds how long Writes without a deadline may wait with
// no frame going out; a connection that cannot take a frame in that time
// is as good as dead.
var writeTimeout = 10 * time.Second // a variable for tests

// keepalivePrefix marks the ids of the Conn's own ping frames, whose
// answers Read swallows.
const keepalivePrefix = "keepalive-"

// ErrDead is returned by Read when the connection was closed because the
// server did not answer pings.
var ErrDead = errors.New("sdk: connection dead (no answer to pings)")

// Conn is one authenticated WebSocket connection. Read must be called in
// a loop (by one goroutine) for the connection to work: it also takes in
// the answers to the keepalive pings. Write may be called concurrently.
type Conn struct {
	ws    *websocket.Conn
	cork  *corkConn  // nil: WriteFrames writes frame by frame
	wmu   sync.Mutex // held while a Write or WriteFrames writes (native builds)
	ready Ready
	ping  time.Duration
	dead  time.Duration
	epoch time.Time // the times below are monotonic ns since epoch
	watch ctxWatch  // native builds

	waitingSince atomic.Int64 // when the pending Read started waiting; 0: none
	lastFrame    atomic.Int64 // when the last frame was read
	pingSeq      atomic.Uint64
	deadErr      atomic.Bool
	stop         chan struct{}
	stopOnce     sync.Once
	rbuf         bytes.Buffer // the message being read (Read's goroutine only)

	// The write watchdog (native builds): while Writes without a deadline
	// are pending, a timer checks that a frame went out in the last
	// writeTimeout, instead of a context.WithTimeout per Write.
	writing    atomic.Int32 // Writes without a deadline under way
	wroteAt    atomic.Int64 // when the last frame went out, or writing went from 0 to 1
	wdArmed    atomic.Bool
	wdTimer    *time.Timer
	writeStuck atomic.Bool // the watchdog closed the connection
}

// WebSocketURL returns the /v1/ws URL of a server's base URL (http→ws,
// https→wss).
func WebSocketURL(server string) (string, error) {
	u, err := url.Parse(trimServer(server))
	if err != nil {
		return "", fmt.Errorf("server URL: %w", err)
	}
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("server URL %q: want http:// or https://", server)
	}
	u.Path = strings.TrimRight(u.Path, "/") + "/v1/ws"
	u.RawQuery, u.Fragment = "", ""
	return u.String(), nil
}

// Dial connects to server, authenticates with token and waits for the
// server's ready frame. ctx bounds the whole handshake. A refusal by the
// server is a *CloseError (4001–4003 for bad credentials).
func Dial(ctx context.Context, server, token string, o *DialOptions) (*Conn, error) {
	var opt DialOptions
	if o != nil {
		opt = *o
	}
	if opt.PingInterval <= 0 {
		opt.PingInterval = 25 * time.Second
	}
	if opt.DeadAfter <= 0 {
		opt.DeadAfter = 2*opt.PingInterval + 10*time.Second
	}
	u, err := WebSocketURL(server)
	if err != nil {
		return nil, err
	}
	ws, cork, err := wsDial(ctx, u, opt.HTTPClient)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", u, err)
	}
	ws.SetReadLimit(maxFrame)
	c := &Conn{ws: ws, cork: cork, ping: opt.PingInterval, dead: opt.DeadAfter, epoch: time.Now(), stop: make(chan struct{})}
	if nativeConn {
		c.watch.close = func() { ws.CloseNow() }
		c.wdTimer = time.AfterFunc(writeTimeout, c.checkWrites)
		c.wdTimer.Stop()
	}
	if err := c.Write(ctx, &Frame{Type: "auth", Token: token}); err != nil {
		ws.CloseNow()
		return nil, err
	}
	// A cancelled ctx closes the connection under the pending read, which
	// is what should happen during the handshake.
	f := new(Frame)
	if err := c.read(ctx, f); err != nil {
		ws.CloseNow()
		return nil, err
	}
	if f.Type != "ready" {
		ws.Close(websocket.StatusProtocolError, "expected ready")
		if err := f.Err(); err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("server answered %q instead of ready", f.Type)
	}
	c.ready = Ready{Version: f.Version, Account: f.Account, Device: f.Device, Node: f.Node,
		ServerTime: time.UnixMilli(f.ServerTime)}
	go c.keepalive()
	return c, nil
}

// Ready returns the server's ready frame.
func (c *Conn) Ready() Ready { return c.ready }

// Write sends one frame. If ctx ends during the write the connection is
// closed (a half-written frame cannot be taken back) and Write returns
// ctx's error; an ended ctx fails Write without closing anything.
// Without a deadline in ctx, a Write is bounded by the connection: when
// no frame has gone out for 10 s while such Writes wait, the connection
// is closed and they return an error that is context.DeadlineExceeded.
// Write does not keep f.
func (c *Conn) Write(ctx context.Context, f *Frame) error {
	bp := writeBufs.Get().(*[]byte)
	var b []byte
	var err error
	if nativeConn {
		b, err = appendFrame((*bp)[:0], f)
	} else {
		b, err = json.Marshal(f) // see nativeConn
	}
	if err == nil {
		err = c.writeMessage(ctx, b)
	}
	if cap(b) <= maxKeptWriteBuf {
		*bp = b[:0]
		writeBufs.Put(bp)
	}
	return err
}

// writeBufs holds encoding buffers for Write: the websocket library has
// copied a frame when its Write returns.
var writeBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxKeptWriteBuf is the largest encoding buffer put back for reuse.
const maxKeptWriteBuf = 64 << 10

// WriteFrames writes fs in order, as Write would one by one, but as one
// write to the operating system where it can (native builds dialled with
// the default HTTP client): a sender with several frames ready saves a
// system call per frame, and so does the server reading them. It returns
// nil when all of fs went out. On an error, a prefix of fs, possibly
// none, went out; unless ctx had ended before the call, the connection is
// then closed. Writes do not overtake each other: a Write waits for a
// WriteFrames under way.
func (c *Conn) WriteFrames(ctx context.Context, fs []*Frame) error {
	if !nativeConn || c.cork == nil || len(fs) < 2 {
		for _, f := range fs {
			if err := c.Write(ctx, f); err != nil {
				return err
			}
		}
		return nil
	}
	bp := writeBufs.Get().(*[]byte)
	defer func() {
		if cap(*bp) > maxKeptWriteBuf {
			*bp = nil
		}
		writeBufs.Put(bp)
	}()
	b := (*bp)[:0]
	ends := make([]int, 0, 64)
	for _, f := range fs {
		var err error
		if b, err = appendFrame(b, f); err != nil {
			return err
		}
		ends = append(ends, len(b))
	}
	*bp = b
	return c.write(ctx, func() error {
		c.cork.cork()
		start := 0
		for _, end := range ends {
			if err := c.ws.Write(context.Background(), websocket.MessageText, b[start:end]); err != nil {
				c.cork.uncork()
				return err
			}
			start = end
		}
		if err := c.cork.uncork(); err != nil {
			c.ws.CloseNow() // some frames went out, maybe half of one
			return err
		}
		return nil
	})
}

func (c *Conn) writeMessage(ctx context.Context, b []byte) error {
	if !nativeConn {
		// The browser's WebSocket queues a frame without blocking.
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.ws.Write(ctx, websocket.MessageText, b); err != nil {
			return c.closeErr(err)
		}
		return nil
	}
	return c.write(ctx, func() error { return c.ws.Write(context.Background(), websocket.MessageText, b) })
}

// write runs w, which writes to c.ws, under c.wmu, ctx's watch and the
// write watchdog (native builds).
func (c *Conn) write(ctx context.Context, w func() error) error {
	done, err := c.watch.begin(ctx)
	if err != nil {
		return err
	}
	_, bounded := ctx.Deadline()
	if !bounded {
		c.writeStarted()
	}
	c.wmu.Lock()
	err = w()
	c.wmu.Unlock()
	if !bounded {
		c.writeEnded()
	}
	c.watch.end(done)
	if err != nil {
		return c.opErr(ctx, err)
	}
	return nil
}

// errWriteStuck is the error of a connection closed by the write
// watchdog.
var errWriteStuck = fmt.Errorf("sdk: connection closed: no frame could be written in %v: %w", writeTimeout, context.DeadlineExceeded)

func (c *Conn) writeStarted() {
	if c.writing.Add(1) == 1 {
		c.wroteAt.Store(c.now())
	}
	if !c.wdArmed.Load() && c.wdArmed.CompareAndSwap(false, true) {
		c.wdTimer.Reset(writeTimeout)
	}
}

func (c *Conn) writeEnded() {
	c.wroteAt.Store(c.now())
	c.writing.Add(-1)
}

// checkWrites is the watchdog's timer function: armed by the first Write
// that finds it unarmed, it runs at most writeTimeout after the last
// frame went out, and re-arms itself while Writes are pending, so a busy
// connection pays for one timer run every writeTimeout.
func (c *Conn) checkWrites() {
	if c.writing.Load() == 0 {
		c.wdArmed.Store(false)
		// A Write that started before the store may have found the
		// watchdog armed: then it is still ours to arm.
		if c.writing.Load() == 0 || !c.wdArmed.CompareAndSwap(false, true) {
			return
		}
	}
	quiet := time.Duration(c.now() - c.wroteAt.Load())
	if quiet >= writeTimeout {
		c.writeStuck.Store(true)
		c.ws.CloseNow()
		return
	}
	c.wdTimer.Reset(writeTimeout - quiet)
}

// now is the monotonic time since c.epoch in ns, cheaper to read than
// the wall clock.
func (c *Conn) now() int64 { return int64(time.Since(c.epoch)) }

// Read returns the next frame from the server (keepalive answers are
// swallowed). When ctx ends during the Read the connection is closed
// and Read returns ctx's error; an ended ctx fails Read without closing
// anything. A close by the server is returned as *CloseError.
func (c *Conn) Read(ctx context.Context) (*Frame, error) {
	f := new(Frame)
	if err := c.ReadInto(ctx, f); err != nil {
		return nil, err
	}
	return f, nil
}

// ReadInto is Read into f, which it overwrites whole: a reader that is
// done with each frame before the next can reuse one. f's strings and
// slices are new for each frame.
func (c *Conn) ReadInto(ctx context.Context, f *Frame) error {
	for {
		if err := c.read(ctx, f); err != nil {
			return err
		}
		if f.Type == "pong" && strings.HasPrefix(f.ID, keepalivePrefix) {
			continue
		}
		return nil
	}
}

func (c *Conn) read(ctx context.Context, f *Frame) error {
	for {
		c.waitingSince.Store(c.now())
		typ, b, err := c.readMessage(ctx)
		c.waitingSince.Store(0)
		if err != nil {
			return c.opErr(ctx, err)
		}
		c.lastFrame.Store(c.now())
		if typ != websocket.MessageText {
			continue // the protocol has no binary frames from servers
		}
		if decodeFrame(b, f) != nil {
			continue // ignore what we cannot understand, as the protocol asks
		}
		return nil
	}
}

// readMessage reads the next message into c.rbuf, whose bytes it
// returns until the next call (decoded frames never alias them): a busy
// connection reads its frames without an allocation each, and a buffer
// grown by one large frame is let go when the next frame comes.
func (c *Conn) readMessage(ctx context.Context) (websocket.MessageType, []byte, error) {
	if nativeConn {
		done, err := c.watch.begin(ctx)
		if err != nil {
			return 0, nil, err
		}
		defer c.watch.end(done)
		ctx = context.Background()
	}
	typ, r, err := c.ws.Reader(ctx)
	if err != nil {
		return 0, nil, err
	}
	if c.rbuf.Cap() > maxKeptReadBuf {
		c.rbuf = bytes.Buffer{}
	}
	c.rbuf.Reset()
	if _, err := c.rbuf.ReadFrom(r); err != nil {
		return 0, nil, err
	}
	return typ, c.rbuf.Bytes(), nil
}

// maxKeptReadBuf is the largest read buffer a connection keeps between
// frames.
const maxKeptReadBuf = 64 << 10

// opErr is the error of a failed read or write under ctx.
func (c *Conn) opErr(ctx context.Context, err error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sdk: connection closed: %w", err)
	}
	return c.closeErr(err)
}

// closeErr translates a websocket error into the package's errors.
func (c *Conn) closeErr(err error) error {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return &CloseError{Code: int(ce.Code), Reason: ce.Reason}
	}
	if c.deadErr.Load() {
		return ErrDead
	}
	if c.writeStuck.Load() {
		return errWriteStuck
	}
	return err
}

// Close closes the connection normally (1000).
func (c *Conn) Close() error { return c.CloseWith(CloseNormal, "") }

// CloseWith closes the connection with a close code and reason.
func (c *Conn) CloseWith(code int, reason string) error {
	c.stopOnce.Do(func() { close(c.stop) })
	return c.ws.Close(websocket.StatusCode(code), reason)
}

// keepalive sends a ping frame every PingInterval (application frames,
// not WebSocket pings, which browsers cannot send) and closes the
// connection when a Read has waited DeadAfter without hearing anything.
// A connection whose reader is merely busy is not dead.
func (c *Conn) keepalive() {
	t := time.NewTicker(c.ping)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
			since := max(c.waitingSince.Load(), c.lastFrame.Load())
			if c.waitingSince.Load() != 0 && c.now()-since > int64(c.dead) {
				c.deadErr.Store(true)
				c.stopOnce.Do(func() { close(c.stop) })
				c.ws.CloseNow()
				return
			}
			id := keepalivePrefix + strconv.FormatUint(c.pingSeq.Add(1), 10)
			if err := c.Write(context.Background(), &Frame{Type: "ping", ID: id}); err != nil {
				c.stopOnce.Do(func() { close(c.stop) })
				return
			}
		}
	}
}
