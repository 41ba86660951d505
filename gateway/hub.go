package gateway

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/gateway/ws"
	"github.com/parley-chat/parley/service"
)

// Options configure a Hub.
type Options struct {
	Node   string // this node's id, unique in the cluster
	Window int    // unacknowledged items per session (default 512)
	// SendRate and SendBurst bound the sends (and retries and resends)
	// of one connection: a token bucket of SendBurst refilled at SendRate
	// per second (defaults 200 and 1000: far above a person, below what
	// floods the store). Hosted business devices are exempt: the Cloud
	// API limits their numbers' throughput.
	SendRate    float64
	SendBurst   float64
	AuthTimeout time.Duration // time allowed for the auth frame (default 10s)
	Heartbeat   time.Duration // node heartbeat interval (default 10s)
	Logger      *slog.Logger
	Metrics     *Metrics
}

// Hub holds this node's sessions, implements service.Notifier on top of
// the bus, and dispatches bus events to sessions.
type Hub struct {
	o        Options
	ps       parley.PubSub
	accounts *service.Accounts
	msg      *service.Messaging
	log      *slog.Logger

	mu       sync.RWMutex
	byAcct   map[string][]*session            // authenticated sessions by account
	watchers map[string]map[*session]struct{} // presence watchers by watched account
	unauthed map[*session]time.Time           // sessions waiting for their auth frame

	sessions  atomic.Int64
	deadlines deadlines // the contexts of sends and acks

	heldMu sync.Mutex
	held   []*session // connections held by DispatchBurst until EndBurst
	spare  []*session
}

var (
	_ service.Notifier    = (*Hub)(nil)
	_ service.KeyNotifier = (*Hub)(nil)
)

// NewHub returns a hub. Call SetTransport before serving.
func NewHub(ps parley.PubSub, accounts *service.Accounts, msg *service.Messaging, o Options) *Hub {
	if o.Window <= 0 {
		o.Window = 512
	}
	if o.SendRate <= 0 {
		o.SendRate = 200
	}
	if o.SendBurst < 1 {
		o.SendBurst = 1000
	}
	if o.AuthTimeout <= 0 {
		o.AuthTimeout = 10 * time.Second
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	return &Hub{
		o: o, ps: ps, accounts: accounts, msg: msg, log: o.Logger,
		byAcct: map[string][]*session{}, watchers: map[string]map[*session]struct{}{},
		unauthed: map[*session]time.Time{},
	}
}

// Sessions returns the number of open sessions on this node.
func (h *Hub) Sessions() int64 { return h.sessions.Load() }

// Run heartbeats the node and closes sessions that did not authenticate
// in time, until ctx is done.
func (h *Hub) Run(ctx context.Context) error {
	if err := h.ps.Subscribe(devicesSubject); err != nil {
		return err
	}
	beat := time.NewTicker(h.o.Heartbeat)
	defer beat.Stop()
	sweep := time.NewTicker(time.Second)
	defer sweep.Stop()
	if err := h.msg.Heartbeat(ctx, h.o.Node); err != nil {
		h.log.Warn("node heartbeat", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			if err := h.msg.Heartbeat(ctx, h.o.Node); err != nil && ctx.Err() == nil {
				h.log.Warn("node heartbeat", "err", err)
			}
		case now := <-sweep.C:
			var late []*session
			h.mu.Lock()
			for s, t := range h.unauthed {
				if s.authed.Load() {
					delete(h.unauthed, s)
				} else if now.Sub(t) > h.o.AuthTimeout {
					late = append(late, s)
					delete(h.unauthed, s)
				}
			}
			h.mu.Unlock()
			for _, s := range late {
				s.c.Close(CloseAuthTimeout, "authenticate first")
			}
		}
	}
}

// OnOpen implements ws.Handler.
func (h *Hub) OnOpen(c *ws.Conn, r *http.Request) {
	s := &session{hub: h, c: c, nonce: nonce()}
	h.sessions.Add(1)
	h.o.Metrics.Connections.Inc()
	// Registered as waiting before the session becomes visible to
	// OnMessage, so that a successful auth always finds and clears it.
	h.mu.Lock()
	h.unauthed[s] = time.Now()
	h.mu.Unlock()
	c.SetValue(s)
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		s.mu.Lock()
		s.authenticate(tok)
		s.mu.Unlock()
	}
}

// OnMessage implements ws.Handler.
func (h *Hub) OnMessage(c *ws.Conn, text bool, data []byte) {
	s, _ := c.Value().(*session)
	if s == nil {
		return
	}
	if !text {
		c.Close(ws.CloseUnsupportedData, "frames are JSON text")
		return
	}
	s.handle(data)
}

// OnClose implements ws.Handler.
func (h *Hub) OnClose(c *ws.Conn, code int, err error) {
	s, _ := c.Value().(*session)
	if s == nil {
		return
	}
	h.sessions.Add(-1)
	h.o.Metrics.Connections.Dec()
	h.mu.Lock()
	delete(h.unauthed, s)
	h.mu.Unlock()
	s.closed()
}

func nonce() uint64 {
	var b [8]byte
	rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:]) | 1
}

// register makes s reachable for its account's events.
func (h *Hub) register(s *session) error {
	if err := h.ps.Subscribe(accountSubject(s.account)); err != nil {
		return err
	}
	h.mu.Lock()
	delete(h.unauthed, s)
	h.byAcct[s.account] = append(h.byAcct[s.account], s)
	h.mu.Unlock()
	return nil
}

// unregister undoes register; it reports whether another local session
// of the same device is still registered.
func (h *Hub) unregister(s *session) (sameDeviceLeft bool) {
	h.mu.Lock()
	list := h.byAcct[s.account]
	for i, x := range list {
		if x == s {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(h.byAcct, s.account)
	} else {
		h.byAcct[s.account] = list
	}
	for _, x := range list {
		if x.device == s.device {
			sameDeviceLeft = true
		}
	}
	for _, acct := range s.watching {
		if w := h.watchers[acct]; w != nil {
			delete(w, s)
			if len(w) == 0 {
				delete(h.watchers, acct)
			}
		}
	}
	h.mu.Unlock()
	for _, acct := range s.watching {
		h.ps.Unsubscribe(presenceSubject(acct))
	}
	if err := h.ps.Unsubscribe(accountSubject(s.account)); err != nil {
		h.log.Warn("unsubscribe", "err", err)
	}
	return sameDeviceLeft
}

// watch replaces the set of accounts whose presence s follows.
func (h *Hub) watch(s *session, accounts []string) {
	old := s.watching
	h.mu.Lock()
	for _, a := range old {
		if w := h.watchers[a]; w != nil {
			delete(w, s)
			if len(w) == 0 {
				delete(h.watchers, a)
			}
		}
	}
	for _, a := range accounts {
		w := h.watchers[a]
		if w == nil {
			w = map[*session]struct{}{}
			h.watchers[a] = w
		}
		w[s] = struct{}{}
	}
	h.mu.Unlock()
	for _, a := range accounts {
		h.ps.Subscribe(presenceSubject(a))
	}
	for _, a := range old {
		h.ps.Unsubscribe(presenceSubject(a))
	}
	s.watching = accounts
}

func (h *Hub) publish(account string, ev *busEvent) {
	subject := accountSubject(account)
	if ev.T == evPresence {
		subject = presenceSubject(account)
	}
	h.publishRaw(subject, ev.marshal())
}

func (h *Hub) publishRaw(subject string, data []byte) {
	if err := h.ps.Publish(subject, data); err != nil {
		h.log.Warn("publish", "subject", subject, "err", err)
	}
}

// Items implements service.Notifier.
func (h *Hub) Items(items []parley.Item) {
	var subject string // items of one account come in runs: one subject each
	for i := range items {
		it := &items[i]
		if i == 0 || it.Account != items[i-1].Account {
			subject = accountSubject(it.Account)
		}
		h.publishRaw(subject, marshalItem(it))
	}
}

// Typing implements service.Notifier.
func (h *Hub) Typing(from string, fromDevice uint32, to, state string) {
	f, _ := json.Marshal(typingFrame{Type: "typing", From: from, FromDevice: fromDevice, State: state})
	h.publish(to, &busEvent{T: evTyping, Frame: f})
}

// Revoked implements service.Notifier.
func (h *Hub) Revoked(account string, device uint32) {
	h.publish(account, &busEvent{T: evRevoked, Dev: device})
}

// KeysLow implements service.KeyNotifier: it tells the device, on
// whichever node holds it, to upload more one-time prekeys.
func (h *Hub) KeysLow(account string, device uint32, remaining int) {
	f, _ := json.Marshal(keysLowFrame{Type: "keys_low", Remaining: remaining})
	h.publish(account, &busEvent{T: evKeysLow, Dev: device, Frame: f})
}

// devicesSubject is the cluster-wide subject of device-list changes:
// every node caches device lists and must hear of every change.
const devicesSubject = "parley.devices"

// DevicesChanged implements service.Notifier.
func (h *Hub) DevicesChanged(account string) {
	f, _ := json.Marshal(devicesFrame{Type: "devices", Account: account})
	h.publish(account, &busEvent{T: evDevices, Frame: f})
	if err := h.ps.Publish(devicesSubject, []byte(account)); err != nil {
		h.log.Warn("publish", "subject", devicesSubject, "err", err)
	}
}

func (h *Hub) presenceChanged(account string) {
	h.publish(account, &busEvent{T: evPresence})
}

// Dispatch handles one bus event; it is the bus handler.
func (h *Hub) Dispatch(subject string, data []byte) { h.dispatch(subject, data, false) }

// DispatchBurst is Dispatch for a bus that calls EndBurst after a burst
// of events: the frames it writes to a connection are held and go out in
// one write at EndBurst (or earlier, past ws's maxHeld), which saves a
// syscall per frame when one connection gets many items at once.
func (h *Hub) DispatchBurst(subject string, data []byte) { h.dispatch(subject, data, true) }

// EndBurst writes what DispatchBurst held, on every connection held since
// the last EndBurst (of any shard of the bus: releasing a connection that
// another shard is still dispatching to only writes its frames earlier).
func (h *Hub) EndBurst() {
	h.heldMu.Lock()
	list := h.held
	h.held, h.spare = h.spare[:0], nil
	for _, s := range list {
		s.held = false
	}
	h.heldMu.Unlock()
	for _, s := range list {
		if err := s.c.Release(); err != nil && !errors.Is(err, ws.ErrClosed) {
			h.o.Metrics.WriteErrors.Inc()
		}
	}
	clear(list)
	h.heldMu.Lock()
	if h.spare == nil {
		h.spare = list[:0]
	}
	h.heldMu.Unlock()
}

// hold holds s's connection until the next EndBurst.
func (h *Hub) hold(s *session) {
	h.heldMu.Lock()
	if !s.held {
		s.held = true
		s.c.Hold()
		h.held = append(h.held, s)
	}
	h.heldMu.Unlock()
}

func (h *Hub) dispatch(subject string, data []byte, burst bool) {
	if subject == devicesSubject {
		h.msg.DevicesChanged(string(data))
		return
	}
	var ev busEvent
	if err := ev.unmarshal(data); err != nil {
		h.log.Warn("bad bus event", "subject", subject, "err", err)
		return
	}
	if acct, ok := strings.CutPrefix(subject, "parley.p."); ok {
		h.dispatchPresence(acct)
		return
	}
	acct, ok := strings.CutPrefix(subject, "parley.a.")
	if !ok {
		return
	}
	h.mu.RLock()
	targets := make([]*session, 0, 2)
	for _, s := range h.byAcct[acct] {
		if ev.Dev == 0 || s.device == ev.Dev {
			targets = append(targets, s)
		}
	}
	h.mu.RUnlock()
	for _, s := range targets {
		if burst {
			h.hold(s)
		}
		switch ev.T {
		case evItem:
			s.deliver(ev.Seq, ev.Frame)
		case evKick:
			if s.nonce != ev.Conn {
				s.c.Close(CloseReplaced, "this device connected again")
			}
		case evRevoked:
			s.c.Close(CloseRevoked, "this device was unlinked")
		case evTyping, evDevices, evKeysLow:
			s.write(ev.Frame)
		}
	}
}

func (h *Hub) dispatchPresence(acct string) {
	h.mu.RLock()
	var viewers []*session
	for s := range h.watchers[acct] {
		viewers = append(viewers, s)
	}
	h.mu.RUnlock()
	for _, s := range viewers {
		s.sendPresence(acct)
	}
}
