package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/gateway/ws"
)

// session is one connection's state. It stays small: an idle connection's
// memory is a budget (docs/BENCHMARKS.md).
type session struct {
	hub   *Hub
	c     *ws.Conn
	nonce uint64

	authed   atomic.Bool  // set once an auth frame arrived: the auth timeout no longer applies
	inflight atomic.Int32 // sends and acks waiting for their commit

	mu       sync.Mutex
	account  string // empty until authenticated
	device   uint32
	dev      *parley.Device
	lastSent uint64 // highest mailbox seq sent on this connection
	pending  int    // items sent and not yet acknowledged
	behind   bool   // the store may hold items not yet sent
	gone     bool
	watching []string

	held bool // the connection is held until the hub's EndBurst; guarded by hub.heldMu

	// The frames of the items sent and not yet acknowledged (see known);
	// nil when there are none.
	sent *sentRing

	// Live items that arrived ahead of a gap (see deliver); nil when none.
	early      map[uint64][]byte
	earlyTimer *time.Timer

	// The send token bucket; only handle touches it (never concurrently).
	tokens    float64
	tokensAt  time.Time
	unmetered bool // a hosted business device
}

// allowSend takes a token for one send, reporting false when there is none.
func (s *session) allowSend() bool {
	if s.unmetered {
		return true
	}
	now := time.Now()
	if s.tokensAt.IsZero() {
		s.tokens = s.hub.o.SendBurst
	} else {
		s.tokens = min(s.hub.o.SendBurst, s.tokens+now.Sub(s.tokensAt).Seconds()*s.hub.o.SendRate)
	}
	s.tokensAt = now
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// opTimeout bounds store work done for one frame.
const opTimeout = 10 * time.Second

func (s *session) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), opTimeout)
}

// deadlines hands out the contexts of sends and acks: one context serves
// the frames of about a second and ends between opTimeout-1s and
// opTimeout after each of them started, instead of a context and a timer
// of their own for every frame (about a twentieth of the bytes the
// server allocated per message).
type deadlines struct {
	cur atomic.Pointer[deadline]
}

type deadline struct {
	ctx     context.Context
	cancel  context.CancelFunc // never called: frames may still use ctx until its deadline ends it
	renewAt time.Time
}

func (d *deadlines) get() context.Context {
	now := time.Now()
	if c := d.cur.Load(); c != nil && now.Before(c.renewAt) {
		return c.ctx
	}
	ctx, cancel := context.WithDeadline(context.Background(), now.Add(opTimeout))
	c := &deadline{ctx: ctx, cancel: cancel, renewAt: now.Add(time.Second)}
	d.cur.Store(c)
	return ctx
}

func (s *session) write(b []byte) {
	if err := s.c.WriteText(b); err != nil {
		s.hub.o.Metrics.WriteErrors.Inc()
	}
}

func (s *session) writeJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.hub.log.Error("encode frame", "err", err)
		return
	}
	s.write(b)
}

func (s *session) fail(id string, err error) {
	f := errorFrame{Type: "error", ID: id, Code: parley.ErrorCode(err), Message: parley.ErrorMessage(err)}
	var e *parley.Error
	if errors.As(err, &e) {
		f.Devices = e.Devices
	}
	if f.Code == parley.EINTERNAL {
		s.hub.log.Error("request failed", "account", s.account, "device", s.device, "err", err)
	}
	s.writeJSON(f)
}

// inFrames holds decoded frames for reuse: a frame decoded per handle call
// was about a twentieth of the bytes the server allocated per message.
var inFrames = sync.Pool{New: func() any { return new(inFrame) }}

// handle processes one client frame. Calls never overlap for one session.
func (s *session) handle(data []byte) {
	fp := inFrames.Get().(*inFrame)
	defer func() {
		*fp = inFrame{} // drop what the frame referred to
		inFrames.Put(fp)
	}()
	f := fp // nothing keeps f after handle returns: what outlives it is copied out (send, ack)
	if err := decodeFrame(data, f); err != nil {
		if s.account == "" {
			s.c.Close(CloseAuthTimeout, "the first frame must be auth")
			return
		}
		s.fail("", parley.Errorf(parley.EINVALID, "frame is not valid JSON"))
		return
	}
	s.hub.o.Metrics.Frames.WithLabelValues(frameLabel(f.Type)).Inc()
	if s.account == "" {
		if f.Type != "auth" {
			s.c.Close(CloseAuthTimeout, "the first frame must be auth")
			return
		}
		s.mu.Lock()
		s.authenticate(f.Token)
		s.mu.Unlock()
		return
	}
	switch f.Type {
	case "send", "retry", "resend":
		if !s.allowSend() {
			s.fail(f.ID, parley.Errorf(parley.ERATELIMIT, "too many messages from this device; slow down"))
			return
		}
	}
	switch f.Type {
	case "send":
		s.send(f)
	case "ack":
		s.ack(f.Seqs)
	case "read":
		ctx, cancel := s.ctx()
		defer cancel()
		if err := s.hub.msg.Read(ctx, s.dev, f.To, f.IDs); err != nil {
			s.fail(f.ID, err)
			return
		}
		s.writeJSON(okFrame{Type: "ok", ID: f.ID})
	case "retry":
		ctx, cancel := s.ctx()
		defer cancel()
		if err := s.hub.msg.Retry(ctx, s.dev, f.To, f.Device, f.Message, f.ClientID); err != nil {
			s.fail(f.ID, err)
			return
		}
		s.writeJSON(okFrame{Type: "ok", ID: f.ID})
	case "resend":
		if len(f.Copies) != 1 {
			s.fail(f.ID, parley.Errorf(parley.EINVALID, "a resend carries exactly one copy"))
			return
		}
		ctx, cancel := s.ctx()
		defer cancel()
		c := f.Copies[0]
		d, err := s.hub.msg.Resend(ctx, s.dev, f.To, f.Group, f.ClientID, parley.Copy{Account: c.Account, Device: c.Device, Body: c.Body})
		if err != nil {
			s.fail(f.ID, err)
			return
		}
		s.writeJSON(sentFrame{Type: "sent", ID: f.ID, MessageID: d.MessageID, Timestamp: d.Timestamp.UnixMilli()})
	case "typing":
		if err := s.hub.msg.Typing(s.dev, f.To, f.State); err != nil {
			s.fail(f.ID, err)
		}
	case "presence":
		s.presence(f)
	case "ping":
		s.writeJSON(okFrame{Type: "pong", ID: f.ID})
	case "auth":
		s.fail(f.ID, parley.Errorf(parley.EINVALID, "already authenticated"))
	default:
		s.fail(f.ID, parley.Errorf(parley.EINVALID, "unknown frame type %q", f.Type))
	}
}

func frameLabel(t string) string {
	switch t {
	case "auth", "send", "ack", "read", "typing", "presence", "ping", "retry", "resend":
		return t
	}
	return "other"
}

// authenticate runs with s.mu held, so that no live item can be sent
// before the backlog.
func (s *session) authenticate(token string) {
	s.authed.Store(true)
	h := s.hub
	ctx, cancel := s.ctx()
	defer cancel()
	d, err := h.accounts.Authenticate(ctx, token)
	if err != nil {
		code, reason := CloseUnauthorized, parley.ErrorMessage(err)
		var e *parley.Error
		errors.As(err, &e)
		switch {
		case e != nil && e.Op == "revoked":
			code = CloseRevoked
		case e != nil && e.Op == "expired":
			code = CloseExpired
		case parley.ErrorCode(err) != parley.EUNAUTHORIZED:
			code = CloseServerError
			h.log.Error("authenticate", "err", err)
		}
		s.c.Close(code, reason)
		return
	}
	// Keep only the device's address: the whole record (names, times, the
	// token hash) would cost every idle connection a few hundred bytes.
	s.account, s.device = d.Account, d.ID
	s.dev = &parley.Device{Account: d.Account, ID: d.ID}
	s.unmetered = d.Platform == parley.PlatformHostedBusiness
	if err := h.register(s); err != nil {
		h.log.Error("register session", "err", err)
		s.c.Close(CloseServerError, "try again")
		return
	}
	// Close older connections of this device on any node.
	h.publish(s.account, &busEvent{T: evKick, Dev: s.device, Conn: s.nonce})
	if err := h.accounts.Touch(ctx, s.dev); err != nil {
		h.log.Warn("touch device", "err", err)
	}
	if err := h.msg.Connected(ctx, s.account, s.device, h.o.Node); err != nil {
		h.log.Warn("presence online", "err", err)
	}
	h.presenceChanged(s.account)
	s.writeJSON(readyFrame{Type: "ready", Version: ProtocolVersion, Account: s.account, Device: s.device,
		Node: h.o.Node, ServerTime: time.Now().UnixMilli()})
	s.behind = true
	s.catchUp(ctx)
}

// catchUp sends stored items after lastSent until the window is full or
// the mailbox is drained. s.mu must be held.
func (s *session) catchUp(ctx context.Context) {
	s.dropEarly() // the store has them too
	for s.pending < s.hub.o.Window && !s.gone {
		items, err := s.hub.msg.Fetch(ctx, s.dev, s.lastSent, s.hub.o.Window-s.pending)
		if err != nil {
			s.hub.log.Warn("fetch mailbox", "account", s.account, "device", s.device, "err", err)
			return // stays behind; the next ack or item retries
		}
		if len(items) == 0 {
			s.behind = false
			return
		}
		for i := range items {
			f := encodeItem(&items[i])
			s.write(f)
			s.keepSent(items[i].Seq, f)
			s.lastSent = items[i].Seq
			s.pending++
		}
		s.hub.o.Metrics.ItemsSent.Add(float64(len(items)))
	}
}

// Items of one device are committed in seq order, but their bus events
// are published by the goroutines that waited for the commits, so they
// may arrive out of order. An item ahead of a gap waits (at most
// maxEarly of them, for at most earlyWait) for the items before it,
// instead of sending the connection to the store for them; when the gap
// does not fill in time (an event was dropped), the store is read.
const (
	maxEarly  = 64
	earlyWait = 50 * time.Millisecond
)

// deliver handles a live item announced on the bus.
func (s *session) deliver(seq uint64, frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone || seq <= s.lastSent {
		return
	}
	if !s.behind && s.pending < s.hub.o.Window {
		if seq == s.lastSent+1 {
			s.send1(seq, frame)
			for s.early != nil && s.pending < s.hub.o.Window {
				f, ok := s.early[s.lastSent+1]
				if !ok {
					break
				}
				delete(s.early, s.lastSent+1)
				s.send1(s.lastSent+1, f)
			}
			switch {
			case len(s.early) == 0:
				s.dropEarly()
			case s.pending >= s.hub.o.Window:
				s.dropEarly() // the window is full: the next ack reads them from the store
				s.behind = true
			}
			return
		}
		if seq-s.lastSent <= maxEarly && len(s.early) < maxEarly {
			if s.early == nil {
				s.early = make(map[uint64][]byte)
				s.earlyTimer = time.AfterFunc(earlyWait, s.gapTimeout)
			}
			s.early[seq] = frame
			return
		}
	}
	s.dropEarly()
	s.behind = true
	if s.pending < s.hub.o.Window {
		ctx, cancel := s.ctx()
		defer cancel()
		s.catchUp(ctx)
	}
}

// send1 writes the live item seq. s.mu must be held.
func (s *session) send1(seq uint64, frame []byte) {
	s.write(frame)
	s.keepSent(seq, frame)
	s.lastSent = seq
	s.pending++
	s.hub.o.Metrics.ItemsSent.Inc()
}

// dropEarly forgets the items waiting for a gap; the store has them.
// s.mu must be held.
func (s *session) dropEarly() {
	if s.earlyTimer != nil {
		s.earlyTimer.Stop()
	}
	s.early, s.earlyTimer = nil, nil
}

// gapTimeout reads the store when a gap did not fill in time.
func (s *session) gapTimeout() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.early == nil || s.gone {
		return
	}
	s.dropEarly()
	s.behind = true
	if s.pending < s.hub.o.Window {
		ctx, cancel := s.ctx()
		defer cancel()
		s.catchUp(ctx)
	}
}

// maxInflight bounds the sends and acks one connection has waiting for a
// commit at once; past it, the connection's frames wait (backpressure).
const maxInflight = 64

// queued reports whether another send or ack of this session may wait
// for its commit in a callback; false: it is done in the caller, and the
// transport stops reading this connection until it is.
func (s *session) queued() bool {
	if s.inflight.Add(1) > maxInflight {
		s.inflight.Add(-1)
		return false
	}
	return true
}

// send validates in the transport's worker and queues the commit there
// (so a connection's sends commit in the order they arrived); the answer
// is written by the callback of the commit, so that one connection can
// have many sends in one group commit.
func (s *session) send(f *inFrame) {
	env := &parley.Envelope{To: f.To, ClientID: f.ID, Copies: make([]parley.Copy, len(f.Copies)), Group: f.Group, Media: f.Media}
	for i, c := range f.Copies {
		env.Copies[i] = parley.Copy{Account: c.Account, Device: c.Device, Body: c.Body}
		if len(c.Body) == 0 {
			env.Copies[i].Body = f.Body // shared: one slice, not a copy per device
		}
	}
	var err error
	if env.ExpiresIn, err = parley.ExpiresInSeconds(f.ExpiresIn); err != nil {
		s.fail(f.ID, err)
		return
	}
	id := f.ID
	answer := func(b *parley.Burst, d *parley.Delivery, err error) {
		if err != nil {
			s.fail(id, err)
			return
		}
		f := sentFrame{Type: "sent", ID: id, MessageID: d.MessageID, Timestamp: d.Timestamp.UnixMilli(), Duplicate: d.Duplicate}
		s.writeIn(b, f.encode())
	}
	ctx := s.hub.deadlines.get()
	if !s.queued() {
		d, err := s.hub.msg.Send(ctx, s.dev, env)
		var b parley.Burst
		answer(&b, d, err)
		b.End()
		return
	}
	err = s.hub.msg.SendThen(ctx, s.dev, env, func(b *parley.Burst, d *parley.Delivery, err error) {
		defer s.inflight.Add(-1)
		answer(b, d, err)
	})
	if err != nil {
		s.inflight.Add(-1)
		s.fail(id, err)
	}
}

// writeIn writes a frame from a callback of burst b: the connection is
// held from its first frame of the burst to the burst's end, so that the
// answers one commit settles for it leave in one write.
func (s *session) writeIn(b *parley.Burst, frame []byte) {
	if b.Finally(s, s.release) {
		s.c.Hold()
	}
	s.write(frame)
}

func (s *session) release() {
	if err := s.c.Release(); err != nil && !errors.Is(err, ws.ErrClosed) {
		s.hub.o.Metrics.WriteErrors.Inc()
	}
}

func (s *session) ack(seqs []uint64) {
	ctx := s.hub.deadlines.get()
	known := s.known(seqs) // taken in either case, so that no frame stays behind
	done := func(err error) {
		if err != nil {
			s.fail("", err)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.pending -= len(seqs)
		if s.pending < 0 {
			s.pending = 0
		}
		if s.behind && s.pending <= s.hub.o.Window/2 {
			s.catchUp(ctx)
		}
	}
	if !s.queued() {
		done(s.hub.msg.Ack(ctx, s.account, s.device, seqs))
		return
	}
	// Queued here, in frame order, so that a read receipt sent after an
	// ack commits after the delivery receipts that ack makes.
	err := s.hub.msg.AckThen(ctx, s.account, s.device, seqs, known, func(_ *parley.Burst, err error) {
		defer s.inflight.Add(-1)
		if err == nil && s.needsCatchUp(len(seqs)) {
			// Reading the store is not for a commit's callback: the
			// other callbacks of the burst would wait for it.
			go done(nil)
			return
		}
		done(err)
	})
	if err != nil {
		s.inflight.Add(-1)
		s.fail("", err)
	}
}

// known returns the items seqs name as this connection sent them, read
// back from their frames, and forgets the frames; nil unless it has every
// one. With them the store deletes the items without reading them back
// (service.ThenMailbox): that read was about a fifth of the writer's time.
func (s *session) known(seqs []uint64) []parley.Item {
	var buf [32][]byte
	frames := buf[:0]
	all := true
	s.mu.Lock()
	for _, seq := range seqs {
		var f []byte
		ok := false
		if s.sent != nil {
			f, ok = s.sent.take(seq)
		}
		frames = append(frames, f)
		all = all && ok
	}
	if s.sent != nil && s.sent.n == 0 {
		s.sent = nil
	}
	s.mu.Unlock()
	if !all {
		return nil
	}
	items := make([]parley.Item, len(seqs))
	for i, f := range frames {
		it, ok := sentItem(f)
		if !ok || it.Seq != seqs[i] {
			return nil
		}
		items[i] = it
	}
	return items
}

// keepSent keeps the frame of item seq, sent, for known. s.mu must be
// held.
func (s *session) keepSent(seq uint64, frame []byte) {
	if s.sent == nil {
		s.sent = new(sentRing)
	}
	s.sent.put(seq, frame, s.hub.o.Window)
}

// sentRing holds the frames of the items a connection sent and that were
// not acknowledged yet, in slot seq modulo its length. A slot taken by
// another such item makes it grow, up to the window; past that the older
// frame is dropped, and the ack of its item goes without (session.known).
// The session drops it while nothing is unacknowledged: an idle
// connection's memory is a budget.
type sentRing struct {
	slots []sentSlot
	n     int // slots in use
}

type sentSlot struct {
	seq   uint64
	frame []byte
}

// put keeps frame, the frame of item seq; window bounds the slots.
func (r *sentRing) put(seq uint64, frame []byte, window int) {
	if r.slots == nil {
		r.slots = make([]sentSlot, 64) // a busy connection's window's worth, as a rule: no growing
	}
	for {
		sl := &r.slots[seq&uint64(len(r.slots)-1)]
		switch {
		case sl.frame == nil:
			*sl = sentSlot{seq, frame}
			r.n++
			return
		case sl.seq == seq || len(r.slots) >= window:
			*sl = sentSlot{seq, frame}
			return
		}
		r.grow()
	}
}

// grow doubles the slots. Frames in distinct slots stay in distinct ones.
func (r *sentRing) grow() {
	old := r.slots
	r.slots = make([]sentSlot, 2*len(old))
	for _, sl := range old {
		if sl.frame != nil {
			r.slots[sl.seq&uint64(len(r.slots)-1)] = sl
		}
	}
}

// take returns and forgets the frame of item seq, if it has it.
func (r *sentRing) take(seq uint64) ([]byte, bool) {
	if r.n == 0 {
		return nil, false
	}
	sl := &r.slots[seq&uint64(len(r.slots)-1)]
	if sl.frame == nil || sl.seq != seq {
		return nil, false
	}
	f := sl.frame
	*sl = sentSlot{}
	if r.n--; r.n == 0 {
		r.slots = nil
	}
	return f, true
}

// needsCatchUp reports whether acknowledging n items will make the
// session read the store (catchUp).
func (s *session) needsCatchUp(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.behind && max(s.pending-n, 0) <= s.hub.o.Window/2
}

const maxWatched = 64

func (s *session) presence(f *inFrame) {
	if len(f.Accounts) > maxWatched {
		s.fail(f.ID, parley.Errorf(parley.ETOOLARGE, "watch at most %d accounts", maxWatched))
		return
	}
	for _, a := range f.Accounts {
		if !parley.ValidAccountID(a) {
			s.fail(f.ID, parley.Errorf(parley.EINVALID, "accounts must be phone numbers in digits"))
			return
		}
	}
	s.hub.watch(s, f.Accounts)
	s.writeJSON(okFrame{Type: "ok", ID: f.ID})
	for _, a := range f.Accounts {
		s.sendPresence(a)
	}
}

func (s *session) sendPresence(target string) {
	ctx, cancel := s.ctx()
	defer cancel()
	p, err := s.hub.msg.Presence(ctx, s.account, target)
	if err != nil {
		if !parley.Match(err, parley.ENOTFOUND) {
			s.hub.log.Warn("presence", "err", err)
		}
		return
	}
	pf := presenceFrame{Type: "presence", Account: target, Online: p.Online, Hidden: p.Hidden}
	if !p.LastSeen.IsZero() && !p.Online {
		pf.LastSeen = p.LastSeen.UnixMilli()
	}
	s.writeJSON(pf)
}

// closed runs once when the connection is gone.
func (s *session) closed() {
	s.mu.Lock()
	s.gone = true
	s.dropEarly()
	s.mu.Unlock()
	if s.account == "" {
		return
	}
	h := s.hub
	if h.unregister(s) {
		return // a newer connection of this device is on this node
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if err := h.msg.Disconnected(ctx, s.account, s.device, h.o.Node); err != nil {
		h.log.Warn("presence offline", "err", err)
	}
	h.presenceChanged(s.account)
}
