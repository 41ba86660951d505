package service

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/parley-chat/parley"
)

// MessagingStore is what messaging needs from storage.
type MessagingStore interface {
	parley.Mailbox
	Account(ctx context.Context, id string) (*parley.Account, error)
	Devices(ctx context.Context, account string) ([]parley.Device, error)
	parley.PresenceStore
	GroupDevices(ctx context.Context, group string) (map[string][]uint32, error)
	Media(ctx context.Context, id string) (*parley.Media, error)
}

// Messaging accepts envelopes into device mailboxes, turns device acks
// into delivery receipts, and relays read receipts, typing and presence.
type Messaging struct {
	store  MessagingStore
	notify Notifier
	clock  parley.Clock
	log    *slog.Logger
	cache  *deviceCache

	// NodeTimeout is how old a node's heartbeat may be before its
	// connections no longer count as online.
	NodeTimeout time.Duration
}

// NewMessaging returns the messaging service.
func NewMessaging(store MessagingStore, notify Notifier, clock parley.Clock, log *slog.Logger) *Messaging {
	if clock == nil {
		clock = parley.SystemClock{}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Messaging{store: store, notify: notify, clock: clock, log: log, NodeTimeout: 30 * time.Second,
		cache: newDeviceCache(5 * time.Second)}
}

// DevicesChanged drops the cached device list of account. The gateway
// calls it for every device change announced on the bus, from any node.
func (s *Messaging) DevicesChanged(account string) { s.cache.invalidate(account) }

// deviceIDs returns the active device ids of account, sorted, without
// skip, and those of them that have published keys.
func (s *Messaging) deviceIDs(ctx context.Context, account string, skip uint32) (ids, keyed []uint32, err error) {
	e, err := s.cache.get(ctx, s.store, account, s.clock.Now())
	if err != nil {
		return nil, nil, err
	}
	without := func(l []uint32) []uint32 {
		out := make([]uint32, 0, len(l))
		for _, id := range l {
			if id != skip {
				out = append(out, id)
			}
		}
		return out
	}
	return without(e.ids), without(e.keyed), nil
}

// Send commits env into the mailbox of every addressed device and returns
// the delivery (its MessageID and Timestamp are the server ack). The
// envelope must carry one copy per active device of the recipient and per
// other active device of the sender — except that devices which have not
// published keys yet may be left out, since nobody can encrypt to them;
// otherwise the send fails with ESTALE and the current lists, so the
// client can re-encrypt. Sends are
// idempotent by (device, ClientID): a retry returns the first result with
// Duplicate set and stores nothing.
func (s *Messaging) Send(ctx context.Context, from *parley.Device, env *parley.Envelope) (*parley.Delivery, error) {
	wait, err := s.SendAsync(ctx, from, env)
	if err != nil {
		return nil, err
	}
	return wait()
}

// AsyncMailbox is implemented by stores that can queue a commit and let
// the caller wait for it later. Queued commits happen in call order, so a
// connection can pipeline sends without reordering them.
type AsyncMailbox interface {
	DeliverAsync(ctx context.Context, d *parley.Delivery) (wait func() error)
	AckWithAsync(ctx context.Context, account string, device uint32, seqs []uint64, followUps func(deleted []parley.Item) []parley.Item) (wait func() ([]parley.Item, error))
}

// ThenMailbox is implemented by stores that can queue a commit and hand
// its result to a callback, run with the other callbacks of its commit on
// one goroutine (parley.Burst), so that a caller needs no goroutine per
// waiting operation. An error means nothing was queued and the callback
// is not called; else it is called once. Callbacks should be quick: the
// other callbacks of their batch wait for them (only the rare answer to a
// device revoked during the commit reads the store there).
//
// DeliverThen's d is the store's until the callback: it may write d's
// items as they are, without a copy.
//
// AckWithThen's known, when not nil, holds the items seqs name as the
// device was sent them (Seq, Kind, MessageID, From, FromDevice, Group),
// one for each seq: the store then need not read the rows back, and hands
// known to followUps when every item named was there.
type ThenMailbox interface {
	DeliverThen(ctx context.Context, d *parley.Delivery, then func(b *parley.Burst, err error)) error
	AckWithThen(ctx context.Context, account string, device uint32, seqs []uint64, known []parley.Item, followUps func(deleted []parley.Item) []parley.Item, then func(b *parley.Burst, sent []parley.Item, err error)) error
}

// SendAsync validates env like Send and queues its commit; wait returns
// Send's result. Sends queued one after another by one caller commit in
// that order. ctx must stay alive until wait returns.
func (s *Messaging) SendAsync(ctx context.Context, from *parley.Device, env *parley.Envelope) (wait func() (*parley.Delivery, error), err error) {
	d, want, err := s.prepareSend(ctx, from, env)
	if err != nil {
		return nil, err
	}
	var commit func() error
	if am, ok := s.store.(AsyncMailbox); ok {
		commit = am.DeliverAsync(ctx, d)
	} else {
		commit = func() error { return s.store.Deliver(ctx, d) }
	}
	return func() (*parley.Delivery, error) {
		return s.sent(ctx, env, d, want, commit())
	}, nil
}

// SendThen is SendAsync with a callback: then gets Send's result once the
// commit is done, with the other callbacks of its batch (see ThenMailbox;
// stores without callbacks get a goroutine that waits). An error means
// env was not queued and then is not called. ctx must stay alive until
// then has returned.
func (s *Messaging) SendThen(ctx context.Context, from *parley.Device, env *parley.Envelope, then func(b *parley.Burst, d *parley.Delivery, err error)) error {
	d, want, err := s.prepareSend(ctx, from, env)
	if err != nil {
		return err
	}
	tm, ok := s.store.(ThenMailbox)
	if !ok {
		go func() {
			var b parley.Burst
			d, err := s.sent(ctx, env, d, want, s.store.Deliver(ctx, d))
			then(&b, d, err)
			b.End()
		}()
		return nil
	}
	return tm.DeliverThen(ctx, d, func(b *parley.Burst, err error) {
		d, err := s.sent(ctx, env, d, want, err)
		then(b, d, err)
	})
}

// prepareSend validates env and makes its delivery; want is the device
// lists when the copies had to be checked against them in full.
func (s *Messaging) prepareSend(ctx context.Context, from *parley.Device, env *parley.Envelope) (d *parley.Delivery, want map[string][]uint32, err error) {
	env.From, env.FromDevice = from.Account, from.ID
	if err := env.Validate(); err != nil {
		return nil, nil, err
	}
	current, err := s.copiesCurrent(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	if !current {
		want, err = s.checkCopies(ctx, env)
		if parley.Match(err, parley.ESTALE) {
			// The cache may be behind: decide on fresh lists only.
			s.cache.invalidate(env.To)
			s.cache.invalidate(env.From)
			want, err = s.checkCopies(ctx, env)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	if err := s.checkMedia(ctx, env); err != nil {
		return nil, nil, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	d = &parley.Delivery{
		From: env.From, FromDevice: env.FromDevice, ClientID: env.ClientID,
		MessageID: NewMessageID(now), Timestamp: now,
		Items: make([]parley.Item, len(env.Copies)),
		Media: env.Media,
	}
	for i, c := range env.Copies {
		d.Items[i] = parley.Item{
			Account: c.Account, Device: c.Device, Kind: parley.KindMessage,
			MessageID: d.MessageID, ClientID: env.ClientID,
			From: env.From, FromDevice: env.FromDevice, To: env.To,
			Timestamp: now, Body: c.Body, Group: env.Group, ExpiresIn: env.ExpiresIn,
		}
	}
	return d, want, nil
}

// sent finishes a send whose commit returned err: the items go out, or
// the error gets the current device lists.
func (s *Messaging) sent(ctx context.Context, env *parley.Envelope, d *parley.Delivery, want map[string][]uint32, err error) (*parley.Delivery, error) {
	const op = "messaging.Send"
	if err != nil {
		if parley.Match(err, parley.ESTALE) {
			// A device was revoked between the check and the commit:
			// answer with the lists as they are now (those checked
			// before the commit matched the envelope, so the client
			// would encrypt for the same devices again).
			s.cache.invalidate(env.To)
			s.cache.invalidate(env.From)
			if fresh, ferr := s.checkCopies(ctx, env); fresh != nil && (ferr == nil || parley.Match(ferr, parley.ESTALE)) {
				want = fresh
			}
			return nil, &parley.Error{Code: parley.ESTALE, Message: "device list changed; re-encrypt for the current devices", Devices: want, Err: err}
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if !d.Duplicate {
		s.notify.Items(d.Items)
	}
	return d, nil
}

// copiesCurrent reports whether a 1:1 envelope's copies are what
// checkCopies accepts, as the usual send has them, without building the
// lists: false sends the caller to checkCopies, which also says what is
// wrong. Group sends are always false.
func (s *Messaging) copiesCurrent(ctx context.Context, env *parley.Envelope) (bool, error) {
	if env.Group != "" {
		return false, nil
	}
	now := s.clock.Now()
	recip, err := s.cache.get(ctx, s.store, env.To, now)
	if err != nil || len(recip.ids) == 0 {
		return false, err
	}
	own := recip
	if env.From != env.To {
		if own, err = s.cache.get(ctx, s.store, env.From, now); err != nil {
			return false, err
		}
	}
	// Validate made every copy's account env.To or env.From, and none the
	// sending device.
	for i, c := range env.Copies {
		e := own
		if c.Account != env.From {
			e = recip
		}
		if _, ok := slices.BinarySearch(e.ids, c.Device); !ok {
			return false, nil
		}
		for _, d := range env.Copies[:i] {
			if d.Account == c.Account && d.Device == c.Device {
				return false, nil
			}
		}
	}
	covered := func(account string, keyed []uint32, skip uint32) bool {
		for _, id := range keyed {
			if id == skip {
				continue
			}
			if !slices.ContainsFunc(env.Copies, func(c parley.Copy) bool { return c.Account == account && c.Device == id }) {
				return false
			}
		}
		return true
	}
	if env.From != env.To && !covered(env.To, recip.keyed, 0) {
		return false, nil
	}
	return covered(env.From, own.keyed, env.FromDevice), nil
}

// checkCopies compares the envelope's copies with the current device
// lists and returns those lists.
func (s *Messaging) checkCopies(ctx context.Context, env *parley.Envelope) (map[string][]uint32, error) {
	const op = "messaging.Send"
	if env.Group != "" {
		return s.checkGroupCopies(ctx, env)
	}
	want := map[string][]uint32{}   // every active device: copies may go to these
	needed := map[string][]uint32{} // those with keys: copies must go to these
	recip, recipKeyed, err := s.deviceIDs(ctx, env.To, 0)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if len(recip) == 0 {
		return nil, parley.Errorf(parley.ENOTFOUND, "%s has no Parley account", env.To)
	}
	if env.To != env.From {
		want[env.To], needed[env.To] = recip, recipKeyed
	}
	own, ownKeyed, err := s.deviceIDs(ctx, env.From, env.FromDevice)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	want[env.From], needed[env.From] = own, ownKeyed
	got := map[string][]uint32{}
	for _, c := range env.Copies {
		got[c.Account] = append(got[c.Account], c.Device)
	}
	stale := len(got) > len(want)
	for acct, ids := range want {
		g := slices.Clone(got[acct])
		slices.Sort(g)
		if !coversBetween(g, needed[acct], ids) {
			stale = true
		}
	}
	if stale {
		return want, &parley.Error{Code: parley.ESTALE, Message: "device list changed; re-encrypt for the current devices", Devices: want}
	}
	return want, nil
}

// coversBetween reports whether the sorted list got has no duplicates,
// contains every id of needed and only ids of allowed (both sorted).
func coversBetween(got, needed, allowed []uint32) bool {
	for i, id := range got {
		if i > 0 && got[i-1] == id {
			return false
		}
		if _, ok := slices.BinarySearch(allowed, id); !ok {
			return false
		}
	}
	for _, id := range needed {
		if _, ok := slices.BinarySearch(got, id); !ok {
			return false
		}
	}
	return true
}

// Retry asks device `device` of account `to`, which sent messageID (with
// clientID, as the item said), to send it again: the calling device could
// not decrypt it. The request is a durable item (KindRetry) for that one
// device; the sender checks clientID against its own records.
func (s *Messaging) Retry(ctx context.Context, dev *parley.Device, to string, device uint32, messageID, clientID string) error {
	const op = "messaging.Retry"
	if !parley.ValidAccountID(to) {
		return parley.Errorf(parley.EINVALID, "to must be a phone number in digits")
	}
	if messageID == "" || len(messageID) > 64 {
		return parley.Errorf(parley.EINVALID, "message_id must have 1 to 64 bytes")
	}
	if len(clientID) > parley.MaxClientIDSize {
		return parley.Errorf(parley.EINVALID, "client_id must have at most %d bytes", parley.MaxClientIDSize)
	}
	if to == dev.Account && device == dev.ID {
		return parley.Errorf(parley.EINVALID, "a device cannot ask itself to resend")
	}
	if err := s.activeDevice(ctx, to, device); err != nil {
		return err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	d := &parley.Delivery{From: dev.Account, FromDevice: dev.ID, Timestamp: now, Items: []parley.Item{{
		Account: to, Device: device, Kind: parley.KindRetry, MessageID: messageID, ClientID: clientID,
		From: dev.Account, FromDevice: dev.ID, To: to, Timestamp: now,
	}}}
	if err := s.store.Deliver(ctx, d); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	s.notify.Items(d.Items)
	return nil
}

// Resend delivers a new ciphertext of a message that the calling device
// sent earlier with clientID (to the account `to`, or to group `group`
// when that is set) to one device, in answer to a retry. The item keeps
// the message's id and time, so the recipient treats it as the message it
// could not decrypt. Resends are not idempotent: recipients drop a second
// copy by message id.
func (s *Messaging) Resend(ctx context.Context, from *parley.Device, to, group, clientID string, c parley.Copy) (*parley.Delivery, error) {
	const op = "messaging.Resend"
	if clientID == "" || len(clientID) > parley.MaxClientIDSize {
		return nil, parley.Errorf(parley.EINVALID, "client_id must have 1 to %d bytes", parley.MaxClientIDSize)
	}
	if c.Account == from.Account && c.Device == from.ID {
		return nil, parley.Errorf(parley.EINVALID, "copy for the sending device itself")
	}
	if len(c.Body) == 0 || len(c.Body) > parley.MaxBodySize {
		return nil, parley.Errorf(parley.EINVALID, "the ciphertext must have 1 to %d bytes", parley.MaxBodySize)
	}
	if group != "" {
		if !parley.ValidGroupID(group) {
			return nil, parley.Errorf(parley.EINVALID, "group is not a group id")
		}
		devs, err := s.store.GroupDevices(ctx, group)
		if err != nil && !parley.Match(err, parley.ENOTFOUND) {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if _, member := devs[from.Account]; !member {
			return nil, parley.Errorf(parley.ENOTFOUND, "no such group")
		}
		if !slices.Contains(devs[c.Account], c.Device) {
			return nil, parley.Errorf(parley.ENOTFOUND, "%s.%d is not a device of a member", c.Account, c.Device)
		}
		to = ""
	} else {
		if !parley.ValidAccountID(to) {
			return nil, parley.Errorf(parley.EINVALID, "to must be a phone number in digits")
		}
		if c.Account != to && c.Account != from.Account {
			return nil, parley.Errorf(parley.EINVALID, "the copy is neither for the recipient nor for the sender")
		}
		if err := s.activeDevice(ctx, c.Account, c.Device); err != nil {
			return nil, err
		}
	}
	id, at, err := s.store.Sent(ctx, from.Account, from.ID, clientID)
	if err != nil {
		if parley.Match(err, parley.ENOTFOUND) {
			return nil, parley.Errorf(parley.ENOTFOUND, "this device sent no message with that client id (or it is older than the retention)")
		}
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	d := &parley.Delivery{From: from.Account, FromDevice: from.ID, MessageID: id, Timestamp: at, Items: []parley.Item{{
		Account: c.Account, Device: c.Device, Kind: parley.KindMessage, MessageID: id, ClientID: clientID,
		From: from.Account, FromDevice: from.ID, To: to, Group: group, Timestamp: at, Body: c.Body,
	}}}
	if err := s.store.Deliver(ctx, d); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	s.notify.Items(d.Items)
	return d, nil
}

// activeDevice returns ENOTFOUND unless device is an active device of
// account.
func (s *Messaging) activeDevice(ctx context.Context, account string, device uint32) error {
	ids, _, err := s.deviceIDs(ctx, account, 0)
	if err != nil {
		return err
	}
	if _, ok := slices.BinarySearch(ids, device); !ok {
		return parley.Errorf(parley.ENOTFOUND, "%s has no active device %d", account, device)
	}
	return nil
}

// Fetch returns a device's pending items after seq, without expired ones.
func (s *Messaging) Fetch(ctx context.Context, dev *parley.Device, after uint64, limit int) ([]parley.Item, error) {
	return s.store.Fetch(ctx, dev.Account, dev.ID, after, limit, s.clock.Now())
}

// Ack deletes acknowledged items from the device's mailbox and, in the
// same transaction, sends a delivery receipt to every device of the
// sender of each acknowledged message (not for copies of one's own
// messages, and not for receipts). Which items were acknowledged is
// decided by the store's delete, so no read precedes it.
func (s *Messaging) Ack(ctx context.Context, account string, device uint32, seqs []uint64) error {
	wait, err := s.AckAsync(ctx, account, device, seqs)
	if err != nil {
		return err
	}
	return wait()
}

// AckAsync is Ack, queued behind the caller's earlier sends and acks;
// wait returns Ack's result. ctx must stay alive until wait returns.
func (s *Messaging) AckAsync(ctx context.Context, account string, device uint32, seqs []uint64) (wait func() error, err error) {
	if len(seqs) == 0 {
		return func() error { return nil }, nil
	}
	receipts, err := s.ackReceipts(account, device, seqs)
	if err != nil {
		return nil, err
	}
	var commit func() ([]parley.Item, error)
	if am, ok := s.store.(AsyncMailbox); ok {
		commit = am.AckWithAsync(ctx, account, device, seqs, receipts)
	} else {
		commit = func() ([]parley.Item, error) { return s.store.AckWith(ctx, account, device, seqs, receipts) }
	}
	return func() error { return s.acked(commit()) }, nil
}

// AckThen is AckAsync with a callback, as SendThen is SendAsync's. known
// may hold the items seqs name as this device was sent them (see
// ThenMailbox's AckWithThen), so that the store need not read them back;
// nil when the caller does not know them all.
func (s *Messaging) AckThen(ctx context.Context, account string, device uint32, seqs []uint64, known []parley.Item, then func(b *parley.Burst, err error)) error {
	receipts, err := s.ackReceipts(account, device, seqs)
	if err != nil {
		return err
	}
	tm, ok := s.store.(ThenMailbox)
	if !ok || len(seqs) == 0 {
		go func() {
			var b parley.Burst
			var err error
			if len(seqs) > 0 {
				err = s.acked(s.store.AckWith(ctx, account, device, seqs, receipts))
			}
			then(&b, err)
			b.End()
		}()
		return nil
	}
	return tm.AckWithThen(ctx, account, device, seqs, known, receipts, func(b *parley.Burst, sent []parley.Item, err error) {
		then(b, s.acked(sent, err))
	})
}

// ackReceipts checks an ack's seqs and returns the function that makes
// its delivery receipts from the items it deleted.
func (s *Messaging) ackReceipts(account string, device uint32, seqs []uint64) (func(deleted []parley.Item) []parley.Item, error) {
	if len(seqs) > 1024 {
		return nil, parley.Errorf(parley.ETOOLARGE, "more than 1024 sequence numbers in one ack")
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	return func(deleted []parley.Item) []parley.Item {
		out := make([]parley.Item, 0, len(deleted))
		for _, it := range deleted {
			if it.Kind != parley.KindMessage || it.From == account {
				continue
			}
			if it.Group != "" {
				out = append(out, groupReceipt(&it, account, device, now))
				continue
			}
			out = append(out, parley.Item{
				Account: it.From, Device: 0, // every active device of the sender
				Kind: parley.KindDelivered, MessageID: it.MessageID,
				From: account, FromDevice: device, To: it.From, Timestamp: now,
			})
		}
		return out
	}, nil
}

// acked finishes an ack whose commit returned sent and err: the receipts
// go out.
func (s *Messaging) acked(sent []parley.Item, err error) error {
	if err != nil {
		return fmt.Errorf("messaging.Ack: %w", err)
	}
	s.notify.Items(sent)
	return nil
}

// Read sends read receipts for messages from `to` to all of to's devices
// and to the reader's other devices (so they mark the chat read too).
func (s *Messaging) Read(ctx context.Context, dev *parley.Device, to string, messageIDs []string) error {
	const op = "messaging.Read"
	if !parley.ValidAccountID(to) {
		return parley.Errorf(parley.EINVALID, "recipient must be a phone number in digits")
	}
	if len(messageIDs) == 0 || len(messageIDs) > 256 {
		return parley.Errorf(parley.EINVALID, "give 1 to 256 message ids")
	}
	for _, id := range messageIDs {
		if id == "" || len(id) > 64 {
			return parley.Errorf(parley.EINVALID, "message ids must have 1 to 64 bytes")
		}
	}
	for attempt := 0; ; attempt++ {
		theirs, _, err := s.deviceIDs(ctx, to, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		if len(theirs) == 0 {
			return parley.Errorf(parley.ENOTFOUND, "%s has no Parley account", to)
		}
		own, _, err := s.deviceIDs(ctx, dev.Account, dev.ID)
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		now := s.clock.Now().UTC().Truncate(time.Microsecond)
		d := &parley.Delivery{From: dev.Account, FromDevice: dev.ID, Timestamp: now}
		add := func(acct string, ids []uint32) {
			for _, id := range ids {
				for _, mid := range messageIDs {
					d.Items = append(d.Items, parley.Item{
						Account: acct, Device: id, Kind: parley.KindRead, MessageID: mid,
						From: dev.Account, FromDevice: dev.ID, To: to, Timestamp: now,
					})
				}
			}
		}
		if to != dev.Account {
			add(to, theirs)
		}
		add(dev.Account, own)
		if len(d.Items) == 0 {
			return nil
		}
		err = s.store.Deliver(ctx, d)
		if parley.Match(err, parley.ESTALE) && attempt < 2 {
			s.cache.invalidate(to)
			s.cache.invalidate(dev.Account)
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", op, err)
		}
		s.notify.Items(d.Items)
		return nil
	}
}

// Typing states.
const (
	TypingComposing = "composing"
	TypingPaused    = "paused"
)

// Typing relays a typing indicator; nothing is stored.
func (s *Messaging) Typing(dev *parley.Device, to, state string) error {
	if !parley.ValidAccountID(to) {
		return parley.Errorf(parley.EINVALID, "recipient must be a phone number in digits")
	}
	if state != TypingComposing && state != TypingPaused {
		return parley.Errorf(parley.EINVALID, "state must be %q or %q", TypingComposing, TypingPaused)
	}
	s.notify.Typing(dev.Account, dev.ID, to, state)
	return nil
}

// Presence is what a viewer may see of an account's presence.
type Presence struct {
	Account  string
	Online   bool
	LastSeen time.Time // zero when hidden or never seen
	Hidden   bool      // the target or the viewer hides presence
}

// Presence returns target's presence as viewer may see it. Visibility is
// reciprocal: if either side hides presence, the viewer sees nothing.
func (s *Messaging) Presence(ctx context.Context, viewer, target string) (*Presence, error) {
	p := &Presence{Account: target}
	t, err := s.store.Account(ctx, target)
	if err != nil {
		return nil, err
	}
	if viewer != target {
		v, err := s.store.Account(ctx, viewer)
		if err != nil {
			return nil, err
		}
		if t.Presence == parley.PresenceNobody || v.Presence == parley.PresenceNobody {
			p.Hidden = true
			return p, nil
		}
	}
	now := s.clock.Now()
	p.Online, p.LastSeen, err = s.store.Presence(ctx, target, now.Add(-s.NodeTimeout))
	if err != nil {
		return nil, fmt.Errorf("messaging.Presence: %w", err)
	}
	return p, nil
}

// Connected records that a device connected to node.
func (s *Messaging) Connected(ctx context.Context, account string, device uint32, node string) error {
	return s.store.SetOnline(ctx, account, device, node, s.clock.Now())
}

// Disconnected records that a device left node.
func (s *Messaging) Disconnected(ctx context.Context, account string, device uint32, node string) error {
	return s.store.SetOffline(ctx, account, device, node, s.clock.Now())
}

// Heartbeat keeps node's connections counted as online.
func (s *Messaging) Heartbeat(ctx context.Context, node string) error {
	return s.store.Heartbeat(ctx, node, s.clock.Now())
}
