package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley/crypto"
)

// Options configure a Messenger. Zero values take the defaults noted.
type Options struct {
	Cipher Cipher    // PlainCipher
	Seen   SeenStore // NewMemorySeen(0)
	Sent   SentStore // NewMemorySent(0); what a retry needs to resend
	// HTTPClient carries HTTP calls and the WebSocket upgrade.
	HTTPClient *http.Client
	// EventBuffer is the capacity of Events (1024: more than the server's
	// window of 512 unacknowledged items).
	EventBuffer int
	// SendOnly makes the Messenger ignore mailbox items: they are neither
	// delivered on Events nor acknowledged, and stay in the mailbox for the
	// next connection that handles them (for one-shot senders).
	SendOnly bool
	// MinBackoff and MaxBackoff bound the wait before a reconnect
	// (500 ms, 30 s); it doubles after each short-lived connection, with
	// jitter.
	MinBackoff, MaxBackoff time.Duration
	PingInterval           time.Duration // see DialOptions
	Logger                 *slog.Logger  // slog.Default()
}

// Messenger is one device's connection to its server: it sends messages
// and delivers what arrives, across reconnects. See the package
// documentation for guarantees, ordering and lifecycle.
type Messenger struct {
	creds  Credentials
	opt    Options
	client *Client
	log    *slog.Logger
	events chan Event
	ackSig chan struct{}

	ackMu sync.Mutex // held while taking and writing acks, so Flush can wait for them

	mu       sync.Mutex
	running  bool
	lastErr  error // why the last connection attempt or connection ended
	stopped  bool
	stopErr  error
	cur      *link
	changed  chan struct{} // closed and replaced when cur or stopped changes
	waiters  map[string]chan *Frame
	pending  map[string][]uint64 // key → seqs of an emitted item not yet acknowledged
	bySeq    map[uint64]string   // seq → key, for pending items
	acks     []uint64            // acknowledged seqs not yet sent
	devices  map[string][]uint32 // device list cache; the own list excludes this device
	watching []string
	retried  map[string]int  // message id → retry requests made for it
	retrying map[uint64]bool // seqs of undecryptable items whose retry is under way
	resent   map[string]int  // client id + device → resends made

	// groupDevices caches GroupDevices by group (under mu); nil until first used.
	groupDevices map[string]map[string][]uint32
}

// Recovery limits: how often a device asks for one message again, and
// how often it resends one message to one device.
const (
	maxRetries = 2
	maxResends = 3
)

// link is one connection and its lifetime.
type link struct {
	c    *Conn
	done chan struct{}
}

// NewMessenger returns a Messenger for creds. Call Run to connect.
func NewMessenger(creds Credentials, opt Options) *Messenger {
	if opt.Cipher == nil {
		opt.Cipher = PlainCipher{}
	}
	if opt.Seen == nil {
		opt.Seen = NewMemorySeen(0)
	}
	if opt.Sent == nil {
		opt.Sent = NewMemorySent(0)
	}
	if opt.EventBuffer <= 0 {
		opt.EventBuffer = 1024
	}
	if opt.MinBackoff <= 0 {
		opt.MinBackoff = 500 * time.Millisecond
	}
	if opt.MaxBackoff < opt.MinBackoff {
		opt.MaxBackoff = max(30*time.Second, opt.MinBackoff)
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	m := &Messenger{
		creds:   creds,
		opt:     opt,
		client:  &Client{Credentials: creds, HTTPClient: opt.HTTPClient},
		log:     opt.Logger.With("account", creds.Account, "device", creds.Device),
		events:  make(chan Event, opt.EventBuffer),
		ackSig:  make(chan struct{}, 1),
		changed: make(chan struct{}),
		waiters: map[string]chan *Frame{},
		pending: map[string][]uint64{},
		bySeq:   map[uint64]string{},
		devices: map[string][]uint32{},

		retried:  map[string]int{},
		retrying: map[uint64]bool{},
		resent:   map[string]int{},
	}
	if sc, ok := opt.Cipher.(*SignalCipher); ok && sc.OnIdentityChange == nil {
		sc.OnIdentityChange = func(ch IdentityChange) { m.emit(&IdentityNotice{ch}) }
	}
	return m
}

// Credentials returns the device's credentials.
func (m *Messenger) Credentials() Credentials { return m.creds }

// Client returns an HTTP client with the Messenger's credentials.
func (m *Messenger) Client() *Client { return m.client }

// Events delivers received messages, receipts, typing, presence and
// device changes. It is closed when Run returns.
func (m *Messenger) Events() <-chan Event { return m.events }

// Run connects and keeps connecting until ctx ends (it returns nil) or
// the server closes the connection fatally (see Fatal; it returns the
// *CloseError). It may be called once.
func (m *Messenger) Run(ctx context.Context) (err error) {
	m.mu.Lock()
	if m.running {
		m.mu.Unlock()
		return errors.New("sdk: Messenger.Run called twice")
	}
	m.running = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.stopped, m.stopErr = true, err
		if err == nil {
			m.stopErr = ErrStopped
		}
		m.broadcast()
		m.mu.Unlock()
		close(m.events)
	}()

	backoff := m.opt.MinBackoff
	for {
		c, err := Dial(ctx, m.creds.Server, m.creds.Token,
			&DialOptions{HTTPClient: m.opt.HTTPClient, PingInterval: m.opt.PingInterval})
		if err == nil {
			start := time.Now()
			err = m.serve(ctx, c)
			if time.Since(start) > 30*time.Second {
				backoff = m.opt.MinBackoff
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		m.mu.Lock()
		m.lastErr = err
		m.mu.Unlock()
		if Fatal(err) {
			m.log.Warn("parley connection closed for good", "err", err)
			return err
		}
		// Full jitter in [backoff/2, backoff): many clients dropped by one
		// node do not come back in lockstep.
		wait := backoff/2 + rand.N(backoff/2+1)
		m.log.Info("parley connection lost; reconnecting", "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		backoff = min(2*backoff, m.opt.MaxBackoff)
	}
}

// broadcast wakes everyone waiting for a state change; m.mu must be held.
func (m *Messenger) broadcast() {
	close(m.changed)
	m.changed = make(chan struct{})
}

// serve runs one connection until it ends.
func (m *Messenger) serve(ctx context.Context, c *Conn) error {
	l := &link{c: c, done: make(chan struct{})}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	m.mu.Lock()
	m.cur = l
	m.lastErr = nil
	watching := m.watching
	m.broadcast()
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.cur = nil
		close(l.done)
		m.broadcast()
		m.mu.Unlock()
		c.CloseWith(CloseNormal, "")
	}()
	go m.acker(l)
	m.signalAck()
	if km, ok := m.opt.Cipher.(keyMaintainer); ok {
		go m.maintainKeys(ctx, km)
	}
	if len(watching) > 0 {
		// Presence follows the connection; the answer has no waiter.
		if err := c.Write(ctx, &Frame{Type: "presence", ID: newID("p-"), Accounts: watching}); err != nil {
			return err
		}
	}
	m.log.Debug("parley connected", "node", c.Ready().Node)
	for {
		f, err := c.Read(context.Background()) // closed by the AfterFunc above
		if err != nil {
			return err
		}
		switch f.Type {
		case "item":
			if err := m.item(ctx, f); err != nil {
				return err
			}
		case "sent", "ok", "pong", "error":
			m.answer(f)
		case "typing":
			m.emit(&Typing{From: f.From, FromDevice: f.FromDevice, State: f.State})
		case "presence":
			p := &Presence{Account: f.Account, Online: f.Online, Hidden: f.Hidden}
			if f.LastSeen > 0 {
				p.LastSeen = time.UnixMilli(f.LastSeen)
			}
			m.emit(p)
		case "keys_low":
			if km, ok := m.opt.Cipher.(keyMaintainer); ok {
				go m.maintainKeys(ctx, km)
			}
		case "devices":
			m.mu.Lock()
			delete(m.devices, m.creds.Account)
			m.mu.Unlock()
			m.forgetGroups() // the own list is part of every group's
			m.emit(&DevicesChanged{Account: f.Account})
		}
	}
}

// maintainKeys publishes or replenishes the device's keys.
func (m *Messenger) maintainKeys(ctx context.Context, km keyMaintainer) {
	if err := km.MaintainKeys(ctx); err != nil && ctx.Err() == nil {
		m.log.Warn("parley key maintenance failed", "err", err)
	}
}

// saveCipher persists the cipher's state if it has any.
func (m *Messenger) saveCipher() error {
	if s, ok := m.opt.Cipher.(cipherSaver); ok {
		return s.Save()
	}
	return nil
}

// emit hands an event that the server does not store to the application,
// or drops it when the buffer is full.
func (m *Messenger) emit(ev Event) {
	if m.opt.SendOnly {
		return
	}
	select {
	case m.events <- ev:
	default:
		m.log.Debug("event buffer full; dropped an ephemeral event")
	}
}

// answer passes a reply to whoever waits for its id.
func (m *Messenger) answer(f *Frame) {
	m.mu.Lock()
	ch := m.waiters[f.ID]
	delete(m.waiters, f.ID)
	m.mu.Unlock()
	if ch != nil {
		ch <- f // buffered, one answer per request
		return
	}
	if f.Type == "error" {
		m.log.Warn("parley request failed", "id", f.ID, "code", f.Code, "message", f.Message)
	}
}

// item handles one mailbox item: drops and re-acks duplicates, opens
// messages and hands the event to the application; answers retry
// requests and asks for a resend of messages it cannot decrypt.
func (m *Messenger) item(ctx context.Context, f *Frame) error {
	if m.opt.SendOnly {
		return nil
	}
	var key string
	switch f.Kind {
	case "msg":
		key = messageKey(f.MessageID)
	case ReceiptDelivered, ReceiptRead, "retry":
		key = receiptKey(f.Kind, f.MessageID, f.From, f.FromDevice)
	case "group":
		key = groupKey(f.MessageID)
	default:
		// A kind from a newer server: acknowledge so it does not block the
		// window, since this client can do nothing with it.
		m.queueAck(f.Seq)
		return nil
	}
	m.mu.Lock()
	if _, ok := m.bySeq[f.Seq]; ok || m.retrying[f.Seq] {
		m.mu.Unlock()
		return nil // sent again while its event waits for Ack (or its retry is under way)
	}
	if seqs, ok := m.pending[key]; ok {
		// The same item under another seq (a second read receipt for one
		// message): acknowledge it together with the first.
		m.pending[key] = append(seqs, f.Seq)
		m.bySeq[f.Seq] = key
		m.mu.Unlock()
		return nil
	}
	m.mu.Unlock()
	seen, err := m.opt.Seen.Seen(key)
	if err != nil {
		return fmt.Errorf("seen store: %w", err)
	}
	if seen {
		m.queueAck(f.Seq) // handled before; the ack was lost
		return nil
	}
	ts := time.UnixMilli(f.Timestamp)
	a := acker{ack: m.ack, key: key}
	switch f.Kind {
	case "retry":
		m.hold(key, f.Seq)
		go m.resend(ctx, f, key)
		return nil
	case "msg":
		msg := &Message{ID: f.MessageID, ClientID: f.ClientID, From: f.From, FromDevice: f.FromDevice,
			To: f.To, Group: f.Group, Timestamp: ts, Seq: f.Seq, ExpiresIn: time.Duration(f.ExpiresIn) * time.Second, acker: a}
		var plain []byte
		var err error
		if gop, ok := m.opt.Cipher.(groupOpener); ok && f.Group != "" {
			plain, err = gop.OpenGroup(ctx, f.MessageID, f.Group, f.From, f.FromDevice, f.Body)
		} else {
			plain, err = m.opt.Cipher.Open(ctx, f.MessageID, f.From, f.FromDevice, f.Body)
		}
		switch {
		case err == nil:
			if err := m.saveCipher(); err != nil {
				m.log.Error("parley could not save the cipher state", "err", err)
			}
			if p, err := DecodePayload(plain); err != nil {
				msg.Raw, msg.Err = plain, err
			} else {
				msg.Raw, msg.Type, msg.Text, msg.Attachment, msg.Caption = plain, p.Type, p.Text, p.Media, p.Caption
				if p.Type == "timer" && p.ExpiresIn != nil {
					msg.Timer = time.Duration(*p.ExpiresIn) * time.Second
				}
			}
		case errors.Is(err, crypto.ErrDuplicate):
			// A ciphertext this device decrypted before, under another
			// message id: a replay. Nothing to show.
			m.log.Warn("parley dropped a replayed message", "message_id", f.MessageID, "from", f.From, "from_device", f.FromDevice)
			m.queueAck(f.Seq)
			return nil
		case recoverable(err) && m.startRetry(f):
			m.log.Info("parley could not decrypt a message; asking the sender to resend",
				"message_id", f.MessageID, "from", f.From, "from_device", f.FromDevice, "err", err)
			m.emit(&Undecryptable{MessageID: f.MessageID, From: f.From, FromDevice: f.FromDevice, Timestamp: ts})
			go m.askResend(ctx, f, msg)
			return nil
		default:
			m.log.Warn("parley could not open a message", "message_id", f.MessageID, "from", f.From, "from_device", f.FromDevice, "err", err)
			msg.Raw, msg.Err = f.Body, fmt.Errorf("open message: %w", err)
		}
		return m.deliverEvent(ctx, key, f.Seq, msg)
	case "group":
		return m.deliverEvent(ctx, key, f.Seq, m.groupChanged(f, a))
	default:
		return m.deliverEvent(ctx, key, f.Seq, &Receipt{Kind: f.Kind, MessageID: f.MessageID, From: f.From, FromDevice: f.FromDevice,
			To: f.To, Group: f.Group, Timestamp: ts, Seq: f.Seq, acker: a})
	}
}

// hold records an item as pending until its key is acknowledged.
func (m *Messenger) hold(key string, seq uint64) {
	m.mu.Lock()
	m.pending[key] = []uint64{seq}
	m.bySeq[seq] = key
	m.mu.Unlock()
}

// deliverEvent holds the item and hands its event to the application.
func (m *Messenger) deliverEvent(ctx context.Context, key string, seq uint64, ev Event) error {
	m.hold(key, seq)
	select {
	case m.events <- ev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// recoverable reports whether a decryption failure may be repaired by the
// sender starting a new session: this device lost or never had the
// session, or it no longer has the prekey the message was built on.
func recoverable(err error) bool {
	return errors.Is(err, crypto.ErrNoSession) || errors.Is(err, crypto.ErrAuthFailed) ||
		errors.Is(err, crypto.ErrUnknownPreKey) || errors.Is(err, crypto.ErrNoSenderKey)
}

// startRetry counts a retry of f's message and reports whether it is
// within the budget.
func (m *Messenger) startRetry(f *Frame) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.retried[f.MessageID] >= maxRetries {
		return false
	}
	m.retried[f.MessageID]++
	m.retrying[f.Seq] = true
	return true
}

// askResend asks the sending device to resend f's message, then
// acknowledges the undecryptable copy without marking the message seen,
// so that the resent copy (same message id) is accepted. When the server
// refuses the request, the application gets msg with an error instead.
func (m *Messenger) askResend(ctx context.Context, f *Frame, msg *Message) {
	defer func() {
		m.mu.Lock()
		delete(m.retrying, f.Seq)
		m.mu.Unlock()
	}()
	r, err := m.request(ctx, &Frame{Type: "retry", ID: newID("x-"), To: f.From, Device: f.FromDevice,
		MessageID: f.MessageID, ClientID: f.ClientID})
	if err != nil {
		return // stopped; the item comes again on the next connection
	}
	if err := r.Err(); err != nil {
		m.log.Warn("parley retry request refused", "message_id", f.MessageID, "err", err)
		msg.Raw, msg.Err = f.Body, fmt.Errorf("open message: the sender cannot be asked to resend: %w", err)
		_ = m.deliverEvent(ctx, msg.Key(), f.Seq, msg)
		return
	}
	m.queueAck(f.Seq)
}

// resend answers a retry item: it encrypts the message again for the
// device that asked, under a new session, and acknowledges the item.
func (m *Messenger) resend(ctx context.Context, f *Frame, key string) {
	if err := m.resendOnce(ctx, f); err != nil {
		if ctx.Err() != nil {
			return // stopped: the item comes again
		}
		m.log.Warn("parley could not resend a message", "client_id", f.ClientID, "to", f.From, "device", f.FromDevice, "err", err)
	}
	if err := m.ack(key); err != nil {
		m.log.Error("parley could not acknowledge a retry", "err", err)
	}
}

func (m *Messenger) resendOnce(ctx context.Context, f *Frame) error {
	if f.ClientID == "" {
		return errors.New("retry without client id")
	}
	rec, err := m.opt.Sent.Sent(f.ClientID)
	if err != nil {
		return err
	}
	if rec == nil {
		return errors.New("no record of that message (too old, or sent by another device)")
	}
	if rec.Group == "" && f.From != rec.To && f.From != m.creds.Account {
		return fmt.Errorf("the message was not for %s", f.From)
	}
	k := f.ClientID + "/" + f.From + "." + uitoa(f.FromDevice)
	m.mu.Lock()
	m.resent[k]++
	n := m.resent[k]
	m.mu.Unlock()
	if n > maxResends {
		return errors.New("resent too often already")
	}
	if rs, ok := m.opt.Cipher.(sessionResetter); ok {
		if err := rs.ResetSession(ctx, f.From, f.FromDevice); err != nil {
			return err
		}
	}
	var body []byte
	commit := func() {}
	if sc, ok := m.opt.Cipher.(*SignalCipher); ok && rec.Group != "" {
		body, commit, err = sc.sealGroupResend(ctx, rec.Group, f.From, f.FromDevice, rec.Plaintext)
	} else {
		body, err = m.opt.Cipher.Seal(ctx, f.From, f.FromDevice, rec.Plaintext)
	}
	if err != nil {
		return err
	}
	if err := m.saveCipher(); err != nil {
		return err
	}
	r, err := m.request(ctx, &Frame{Type: "resend", ID: newID("s-"), To: rec.To, Group: rec.Group, ClientID: rec.ClientID,
		Copies: []Copy{{Account: f.From, Device: f.FromDevice, Body: body}}})
	if err != nil {
		return err
	}
	if err := r.Err(); err != nil {
		return err
	}
	commit()
	m.log.Info("parley resent a message", "message_id", r.MessageID, "to", f.From, "device", f.FromDevice)
	return nil
}

// ack records key as seen, then queues the acks of its items.
func (m *Messenger) ack(key string) error {
	if err := m.opt.Seen.MarkSeen(key); err != nil {
		return fmt.Errorf("seen store: %w", err)
	}
	if h, ok := m.opt.Cipher.(handledNotifier); ok && strings.HasPrefix(key, "m:") {
		h.Handled(key[2:])
	}
	m.mu.Lock()
	seqs := m.pending[key]
	delete(m.pending, key)
	for _, s := range seqs {
		delete(m.bySeq, s)
	}
	m.acks = append(m.acks, seqs...)
	m.mu.Unlock()
	m.signalAck()
	return nil
}

func (m *Messenger) queueAck(seq uint64) {
	m.mu.Lock()
	m.acks = append(m.acks, seq)
	m.mu.Unlock()
	m.signalAck()
}

func (m *Messenger) signalAck() {
	select {
	case m.ackSig <- struct{}{}:
	default:
	}
}

// acker sends queued acks on l, in batches, until l ends. Acks that are
// lost with a connection are harmless: the server sends those items
// again, they are found in the SeenStore and acknowledged again.
func (m *Messenger) acker(l *link) {
	for {
		select {
		case <-l.done:
			return
		case <-m.ackSig:
		}
		if m.writeAcks(context.Background(), l) != nil {
			return
		}
	}
}

// writeAcks sends every queued ack on l.
func (m *Messenger) writeAcks(ctx context.Context, l *link) error {
	const maxSeqs = 1024 // per ack frame
	m.ackMu.Lock()
	defer m.ackMu.Unlock()
	m.mu.Lock()
	seqs := m.acks
	m.acks = nil
	m.mu.Unlock()
	for len(seqs) > 0 {
		n := min(len(seqs), maxSeqs)
		if err := l.c.Write(ctx, &Frame{Type: "ack", Seqs: seqs[:n]}); err != nil {
			return err
		}
		seqs = seqs[n:]
	}
	return nil
}

// Flush writes the acks queued so far to the connection, so that a
// process about to exit does not leave them unsent (they would only cost
// a redelivery, but the senders' delivery receipts would wait for it).
// Without a connection it does nothing.
func (m *Messenger) Flush(ctx context.Context) error {
	m.mu.Lock()
	l := m.cur
	m.mu.Unlock()
	if l == nil {
		return nil
	}
	return m.writeAcks(ctx, l)
}

// LastError returns why the last connection (attempt) failed; nil while
// connected and before the first attempt.
func (m *Messenger) LastError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lastErr
}

// current waits for a connection.
func (m *Messenger) current(ctx context.Context) (*link, error) {
	for {
		m.mu.Lock()
		l, ch, stopped, err := m.cur, m.changed, m.stopped, m.stopErr
		m.mu.Unlock()
		if l != nil {
			return l, nil
		}
		if stopped {
			return nil, err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// request sends f and returns the answer with f.ID, resending on the next
// connection when the connection is lost first. Only idempotent requests
// may use it (send is, by client id; read receipts are deduplicated by
// receivers; presence replaces a set).
func (m *Messenger) request(ctx context.Context, f *Frame) (*Frame, error) {
	for {
		l, err := m.current(ctx)
		if err != nil {
			return nil, err
		}
		ch := make(chan *Frame, 1)
		m.mu.Lock()
		m.waiters[f.ID] = ch
		m.mu.Unlock()
		if err := l.c.Write(context.Background(), f); err == nil {
			select {
			case r := <-ch:
				return r, nil
			case <-l.done:
			case <-ctx.Done():
			}
		}
		m.mu.Lock()
		if m.waiters[f.ID] == ch {
			delete(m.waiters, f.ID)
		}
		m.mu.Unlock()
		select {
		case r := <-ch: // answered after all
			return r, nil
		default:
		}
		// Wait until this connection is gone before trying the next one.
		select {
		case <-l.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// MarkRead sends read receipts for messages from `from` to its devices
// and to the own other devices.
func (m *Messenger) MarkRead(ctx context.Context, from string, messageIDs ...string) error {
	acct, err := AccountID(from)
	if err != nil {
		return err
	}
	for len(messageIDs) > 0 {
		n := min(len(messageIDs), 256) // the server's limit per frame
		r, err := m.request(ctx, &Frame{Type: "read", ID: newID("r-"), To: acct, MessageIDs: messageIDs[:n]})
		if err != nil {
			return err
		}
		if err := r.Err(); err != nil {
			return err
		}
		messageIDs = messageIDs[n:]
	}
	return nil
}

// Typing tells the devices of `to` that this device is composing (or
// has paused). Nothing is stored; nothing is sent while disconnected.
func (m *Messenger) Typing(ctx context.Context, to string, composing bool) error {
	acct, err := AccountID(to)
	if err != nil {
		return err
	}
	state := "paused"
	if composing {
		state = "composing"
	}
	m.mu.Lock()
	l := m.cur
	m.mu.Unlock()
	if l == nil {
		return errors.New("sdk: not connected")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Not ctx: a write cut short would close the shared connection.
	return l.c.Write(context.Background(), &Frame{Type: "typing", To: acct, State: state})
}

// WatchPresence replaces the set of accounts (at most 64) whose presence
// arrives on Events: once now and on every change. The set is sent again
// after every reconnect.
func (m *Messenger) WatchPresence(ctx context.Context, accounts ...string) error {
	ids := make([]string, len(accounts))
	for i, a := range accounts {
		id, err := AccountID(a)
		if err != nil {
			return err
		}
		ids[i] = id
	}
	m.mu.Lock()
	m.watching = ids
	m.mu.Unlock()
	r, err := m.request(ctx, &Frame{Type: "presence", ID: newID("p-"), Accounts: ids})
	if err != nil {
		return err
	}
	return r.Err()
}

// WaitConnected waits until a connection is up (or Run has stopped).
func (m *Messenger) WaitConnected(ctx context.Context) error {
	_, err := m.current(ctx)
	return err
}

// Handle calls h for each event and acknowledges the event when h
// returns nil. It returns when ctx ends (nil), when h fails (its error;
// that event is not acknowledged and comes again on a later connection)
// or when Run has stopped (Run's error, or nil after a cancelled Run).
func (m *Messenger) Handle(ctx context.Context, h func(context.Context, Event) error) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-m.events:
			if !ok {
				m.mu.Lock()
				err := m.stopErr
				m.mu.Unlock()
				if errors.Is(err, ErrStopped) {
					return nil
				}
				return err
			}
			if err := h(ctx, ev); err != nil {
				return err
			}
			if err := ev.Ack(); err != nil {
				return err
			}
		}
	}
}

func uitoa(v uint32) string { return strconv.FormatUint(uint64(v), 10) }
