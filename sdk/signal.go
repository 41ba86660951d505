package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/parley-chat/parley/crypto"
)

// StateStore keeps a SignalCipher's state between runs. The state holds
// the device's private keys and sessions: store it where the device's
// other secrets live (sdk/profile writes it 0600; the browser keeps it in
// IndexedDB). Nothing in it ever goes to the server.
type StateStore interface {
	// LoadState returns the saved state, or nil and no error when there
	// is none yet.
	LoadState() ([]byte, error)
	// SaveState replaces the saved state; it must be durable (synced)
	// when it returns.
	SaveState(state []byte) error
}

// MemoryState is a StateStore in memory, for tests and short-lived
// devices: keys are lost with the process.
type MemoryState struct {
	mu sync.Mutex
	b  []byte
}

// LoadState returns the last saved state.
func (m *MemoryState) LoadState() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.b, nil
}

// SaveState keeps a copy of state.
func (m *MemoryState) SaveState(state []byte) error {
	m.mu.Lock()
	m.b = append([]byte(nil), state...)
	m.mu.Unlock()
	return nil
}

// ErrNoKeys is returned by SignalCipher.Seal for a device that has not
// published keys yet: nobody can encrypt to it, and the server does not
// require a copy for it. The Messenger leaves such devices out.
var ErrNoKeys = errors.New("the device has not published keys")

// Key maintenance targets: the server holds at most 200 one-time prekeys
// per device and warns (keys_low) below 10.
const (
	preKeyBatch = 100 // one-time prekeys published at once
	preKeyLow   = 20  // replenish below this many on the server
)

// IdentityChange is a notice that a contact's keys changed. Kind is
// IdentityNewDevice when a device of an account this device already had
// sessions with appears for the first time (the account's safety number
// changes), or IdentityChanged when a known device presents a different
// identity key — which the server prevents for honest devices (a new
// identity needs a new device), so treat it as a warning.
type IdentityChange struct {
	Kind         string
	Peer         crypto.Address
	SafetyNumber crypto.SafetyNumber // of the account pair, after the change
}

// Identity change kinds.
const (
	IdentityNewDevice = "new_device"
	IdentityChanged   = "identity_changed"
)

// SignalCipher is the Cipher with end-to-end encryption: the Signal
// protocol (X3DH, Double Ratchet) of package crypto, one session per
// peer device. Bundles for new sessions are claimed from the server.
//
// Identity keys are trusted on first use. A known device that presents a
// new identity key is accepted automatically (as WhatsApp does) unless
// Strict is set, in which case Seal fails with *crypto.IdentityChangedError
// until AcceptIdentity is called; received messages are always accepted,
// since refusing them would lose them. Every change is reported to
// OnIdentityChange.
//
// The state is saved to the StateStore by Save, which the Messenger calls
// after sealing a message's copies (before the send leaves: a sent
// ciphertext whose ratchet step was not saved would make the next one
// reuse a message key) and after opening one (before the application
// acknowledges it).
type SignalCipher struct {
	dev   *crypto.Device
	store StateStore
	keys  keyClient
	log   *slog.Logger

	// Strict refuses to encrypt to a device whose identity key changed
	// until AcceptIdentity.
	Strict bool
	// OnIdentityChange is called for every identity notice (the
	// Messenger sets it to emit an *IdentityNotice event when nil).
	OnIdentityChange func(IdentityChange)

	dirty    atomic.Bool
	saveMu   sync.Mutex
	maintain sync.Mutex

	openedMu sync.Mutex
	opened   map[string]openedMessage // message id → plaintext not yet Handled
	order    []string                 // opened ids, oldest first

	groupMu sync.Mutex
	groups  map[string][]string // group → devices ("<account>.<device>") that have this device's current sender key
}

// keyClient is the part of a Client that a SignalCipher uses, as
// functions rather than a *Client: a SignalCipher is held as a Cipher
// (an interface), and a *Client reachable from an interface keeps the
// methods of its *http.Client in the binary, which in WebAssembly builds
// links net/http's whole transport (5 MB; see roundtrip_js.go).
type keyClient struct {
	claim      func(ctx context.Context, account string, device uint32) (*Claimed, error)
	count      func(ctx context.Context) (*KeyCount, error)
	publish    func(ctx context.Context, u crypto.Upload) (*KeyCount, error)
	addPreKeys func(ctx context.Context, keys []crypto.PreKey) (*KeyCount, error)
	putSigned  func(ctx context.Context, k crypto.SignedPreKey) (*KeyCount, error)
}

func newKeyClient(c *Client) keyClient {
	return keyClient{claim: c.ClaimBundle, count: c.KeyCount, publish: c.PublishKeys, addPreKeys: c.AddPreKeys,
		putSigned: c.PutSignedPreKey}
}

// openedMessage is the plaintext of a message that the application has
// not acknowledged yet: a redelivery must give the same plaintext, and
// its message keys are used up.
type openedMessage struct {
	From      string `json:"from"` // "<account>.<device>"
	Plaintext []byte `json:"plaintext"`
}

// maxOpened bounds the plaintexts kept for redelivery: more than the
// server's window of unacknowledged items.
const maxOpened = 2048

// savedState is what SignalCipher writes to its StateStore.
type savedState struct {
	Version int                      `json:"v"`
	Device  json.RawMessage          `json:"device"` // crypto.Device.Marshal
	Opened  map[string]openedMessage `json:"opened,omitempty"`
	Groups  map[string][]string      `json:"groups,omitempty"`
}

var _ Cipher = (*SignalCipher)(nil)

// OpenSignalCipher loads the device's Signal state from store, or creates
// new keys when there is none (and saves them at once). Keys are not
// published here: call MaintainKeys (the Messenger does on every
// connection). client carries the device's credentials; it claims peers'
// bundles and publishes keys.
func OpenSignalCipher(client *Client, store StateStore, log *slog.Logger) (*SignalCipher, error) {
	if log == nil {
		log = slog.Default()
	}
	c := &SignalCipher{store: store, keys: newKeyClient(client), log: log, opened: map[string]openedMessage{}, groups: map[string][]string{}}
	self := crypto.Address{Account: client.Account, Device: client.Device}
	opt := crypto.Options{Bundles: crypto.BundleSourceFunc(c.fetchBundle)}
	data, err := store.LoadState()
	if err != nil {
		return nil, fmt.Errorf("load signal state: %w", err)
	}
	if data != nil {
		var st savedState
		if err := json.Unmarshal(data, &st); err != nil || st.Version != 1 {
			return nil, fmt.Errorf("load signal state: not a state this SDK wrote")
		}
		c.dev, err = crypto.Unmarshal(st.Device, opt)
		if err != nil {
			return nil, fmt.Errorf("load signal state: %w", err)
		}
		for id, o := range st.Opened {
			c.opened[id] = o
			c.order = append(c.order, id)
		}
		for g, addrs := range st.Groups {
			c.groups[g] = addrs
		}
		if c.dev.Address() != self {
			return nil, fmt.Errorf("the saved signal state belongs to %s, not to this device %s", c.dev.Address(), self)
		}
		return c, nil
	}
	if c.dev, err = crypto.NewDevice(self, opt); err != nil {
		return nil, err
	}
	if _, err := c.dev.GenerateOneTimePreKeys(context.Background(), preKeyBatch); err != nil {
		return nil, err
	}
	c.dirty.Store(true)
	if err := c.Save(); err != nil {
		return nil, err
	}
	return c, nil
}

// Device returns the crypto device, for safety numbers and group keys.
func (c *SignalCipher) Device() *crypto.Device { return c.dev }

// fetchBundle claims the bundle of one peer device.
func (c *SignalCipher) fetchBundle(ctx context.Context, peer crypto.Address) (*crypto.Bundle, error) {
	cl, err := c.keys.claim(ctx, peer.Account, peer.Device)
	if err != nil {
		return nil, err
	}
	if b := cl.Bundles[peer.Device]; b != nil {
		return b, nil
	}
	return nil, ErrNoKeys
}

// Seal encrypts plaintext for one device, starting a session when there
// is none. Errors: ErrNoKeys; *Error not_found when the device is not
// active (the device list is stale); *crypto.IdentityChangedError in
// Strict mode; crypto errors.
func (c *SignalCipher) Seal(ctx context.Context, account string, device uint32, plaintext []byte) ([]byte, error) {
	peer := crypto.Address{Account: account, Device: device}
	known := c.knownDevices(account)
	ct, err := c.dev.Encrypt(ctx, peer, plaintext)
	var changed *crypto.IdentityChangedError
	if errors.As(err, &changed) && !c.Strict {
		if err := c.dev.AcceptIdentity(ctx, peer, changed.New); err != nil {
			return nil, err
		}
		c.dirty.Store(true)
		c.notify(IdentityChanged, peer)
		ct, err = c.dev.Encrypt(ctx, peer, plaintext)
	}
	if err != nil {
		return nil, err
	}
	c.dirty.Store(true)
	c.noticeNewDevice(peer, known)
	return ct.Encode(), nil
}

// Open decrypts a body sent by a peer device. A message from a known
// device with a new identity key is accepted and reported. The plaintext
// is kept (and saved with the state) until Handled, for a redelivery.
func (c *SignalCipher) Open(ctx context.Context, messageID, fromAccount string, fromDevice uint32, body []byte) ([]byte, error) {
	peer := crypto.Address{Account: fromAccount, Device: fromDevice}
	if plain, ok := c.reopen(messageID, peer); ok {
		return plain, nil
	}
	ct, err := crypto.DecodeCiphertext(body)
	if err != nil {
		return nil, err
	}
	plain, err := c.decrypt1to1(ctx, peer, ct)
	if err != nil {
		return nil, err
	}
	c.keep(messageID, peer, plain)
	return plain, nil
}

// reopen returns the kept plaintext of a message opened before.
func (c *SignalCipher) reopen(messageID string, peer crypto.Address) ([]byte, bool) {
	c.openedMu.Lock()
	defer c.openedMu.Unlock()
	o, ok := c.opened[messageID]
	if ok && o.From == peer.String() {
		return o.Plaintext, true
	}
	return nil, false
}

// decrypt1to1 decrypts a PreKey or Whisper message, accepting (and
// reporting) a new identity key of a known device.
func (c *SignalCipher) decrypt1to1(ctx context.Context, peer crypto.Address, ct crypto.Ciphertext) ([]byte, error) {
	known := c.knownDevices(peer.Account)
	plain, err := c.dev.Decrypt(ctx, peer, ct)
	var changed *crypto.IdentityChangedError
	if errors.As(err, &changed) {
		if err := c.dev.AcceptIdentity(ctx, peer, changed.New); err != nil {
			return nil, err
		}
		c.dirty.Store(true)
		c.notify(IdentityChanged, peer)
		plain, err = c.dev.Decrypt(ctx, peer, ct)
	}
	if err != nil {
		return nil, err
	}
	c.dirty.Store(true)
	c.noticeNewDevice(peer, known)
	return plain, nil
}

// keep records an opened message's plaintext until Handled.
func (c *SignalCipher) keep(messageID string, peer crypto.Address, plain []byte) {
	c.openedMu.Lock()
	if _, ok := c.opened[messageID]; !ok {
		c.order = append(c.order, messageID)
	}
	c.opened[messageID] = openedMessage{From: peer.String(), Plaintext: plain}
	for len(c.order) > maxOpened {
		delete(c.opened, c.order[0])
		c.order = c.order[1:]
	}
	c.openedMu.Unlock()
	c.dirty.Store(true)
}

// Handled forgets the plaintext kept for a message that the application
// acknowledged; the state is saved with the next change.
func (c *SignalCipher) Handled(messageID string) {
	c.openedMu.Lock()
	defer c.openedMu.Unlock()
	if _, ok := c.opened[messageID]; !ok {
		return
	}
	delete(c.opened, messageID)
	if i := slices.Index(c.order, messageID); i >= 0 {
		c.order = slices.Delete(c.order, i, i+1)
	}
	c.dirty.Store(true)
}

// ResetSession forgets the session with a peer device, so that the next
// Seal starts a new one (after the peer asked for a resend).
func (c *SignalCipher) ResetSession(ctx context.Context, account string, device uint32) error {
	err := c.dev.ResetSession(ctx, crypto.Address{Account: account, Device: device})
	c.dirty.Store(true)
	return err
}

// AcceptIdentity trusts the current identity key of a peer device after
// an *crypto.IdentityChangedError in Strict mode.
func (c *SignalCipher) AcceptIdentity(ctx context.Context, e *crypto.IdentityChangedError) error {
	if err := c.dev.AcceptIdentity(ctx, e.Peer, e.New); err != nil {
		return err
	}
	c.dirty.Store(true)
	return c.Save()
}

// knownDevices returns the devices of account with stored identities.
func (c *SignalCipher) knownDevices(account string) []crypto.Address {
	return c.dev.PeerDevices(account)
}

// noticeNewDevice reports peer when it was not among known but other
// devices of its account were (first contact is trusted silently).
func (c *SignalCipher) noticeNewDevice(peer crypto.Address, known []crypto.Address) {
	if len(known) == 0 {
		return
	}
	for _, k := range known {
		if k == peer {
			return
		}
	}
	c.notify(IdentityNewDevice, peer)
}

func (c *SignalCipher) notify(kind string, peer crypto.Address) {
	f := c.OnIdentityChange
	if f == nil {
		return
	}
	ch := IdentityChange{Kind: kind, Peer: peer}
	if peer.Account != c.dev.Address().Account {
		ch.SafetyNumber, _ = c.SafetyNumber(peer.Account)
	}
	f(ch)
}

// SafetyNumber returns the safety number of this account and account,
// over the identity keys of the devices known on each side (this device,
// the own other devices and the peer's devices it has had sessions with).
// Both sides see the same number when they know the same devices;
// compare it in person or scan the QR payload (VerifySafetyQR).
func (c *SignalCipher) SafetyNumber(account string) (crypto.SafetyNumber, error) {
	self := c.dev.Address().Account
	if account == self {
		return crypto.SafetyNumber{}, fmt.Errorf("%w: a safety number is between two accounts", crypto.ErrMalformed)
	}
	local := crypto.Party{Account: self, Keys: []crypto.IdentityKey{c.dev.IdentityKey()}}
	for _, a := range c.dev.PeerDevices(self) {
		if k, err := c.dev.PeerIdentity(a); err == nil {
			local.Keys = append(local.Keys, k)
		}
	}
	remote := crypto.Party{Account: account}
	for _, a := range c.dev.PeerDevices(account) {
		if k, err := c.dev.PeerIdentity(a); err == nil {
			remote.Keys = append(remote.Keys, k)
		}
	}
	if len(remote.Keys) == 0 {
		return crypto.SafetyNumber{}, fmt.Errorf("%w: no session with %s yet", crypto.ErrNoIdentity, account)
	}
	return crypto.NewSafetyNumber(local, remote)
}

// Save writes the state to the store if it changed since the last save.
func (c *SignalCipher) Save() error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	if !c.dirty.Swap(false) {
		return nil
	}
	dev, err := c.dev.Marshal()
	if err == nil {
		c.openedMu.Lock()
		c.groupMu.Lock()
		var b []byte
		b, err = json.Marshal(savedState{Version: 1, Device: dev, Opened: c.opened, Groups: c.groups})
		c.groupMu.Unlock()
		c.openedMu.Unlock()
		if err == nil {
			err = c.store.SaveState(b)
		}
	}
	if err != nil {
		c.dirty.Store(true)
		return fmt.Errorf("save signal state: %w", err)
	}
	return nil
}

// MaintainKeys makes the server's copy of this device's keys complete:
// it publishes them when the server has none (a new device, or a first
// upload that failed), tops up one-time prekeys when fewer than 20 are
// left, and rotates the signed prekey when the server says it is due.
// Concurrent calls run one after another.
func (c *SignalCipher) MaintainKeys(ctx context.Context) error {
	c.maintain.Lock()
	defer c.maintain.Unlock()
	count, err := c.keys.count(ctx)
	if ErrorCode(err) == CodeNotFound {
		u, err := c.dev.Upload()
		if err != nil {
			return err
		}
		if len(u.PreKeys) < preKeyBatch {
			if _, err := c.dev.GenerateOneTimePreKeys(ctx, preKeyBatch-len(u.PreKeys)); err != nil {
				return err
			}
			c.dirty.Store(true)
			if u, err = c.dev.Upload(); err != nil {
				return err
			}
		}
		if err := c.Save(); err != nil { // the private halves first
			return err
		}
		if _, err := c.keys.publish(ctx, u); err != nil {
			return fmt.Errorf("publish keys: %w", err)
		}
		c.log.Info("parley keys published", "one_time_prekeys", len(u.PreKeys))
		return nil
	}
	if err != nil {
		return fmt.Errorf("key count: %w", err)
	}
	if count.OneTimePreKeys < preKeyLow {
		// Prekeys claimed but never used pile up; the oldest go first.
		c.dev.DropOldPreKeys(crypto.MaxPreKeys - preKeyBatch)
		keys, err := c.dev.GenerateOneTimePreKeys(ctx, preKeyBatch)
		if err != nil {
			return err
		}
		c.dirty.Store(true)
		if err := c.Save(); err != nil {
			return err
		}
		if _, err := c.keys.addPreKeys(ctx, keys); err != nil {
			return fmt.Errorf("add prekeys: %w", err)
		}
		c.log.Debug("parley one-time prekeys replenished", "had", count.OneTimePreKeys, "added", len(keys))
	}
	if count.Rotate {
		spk, err := c.dev.RotateSignedPreKey(ctx)
		if err != nil {
			return err
		}
		c.dirty.Store(true)
		if err := c.Save(); err != nil {
			return err
		}
		if _, err := c.keys.putSigned(ctx, spk); err != nil {
			return fmt.Errorf("rotate signed prekey: %w", err)
		}
		c.log.Info("parley signed prekey rotated")
	}
	return nil
}
