package crypto

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/util/keyhelper"
	"go.mau.fi/libsignal/util/medium"
)

// Limits on one-time prekeys and signed prekey retention.
const (
	// MaxPreKeys is how many unused one-time prekeys a device keeps.
	MaxPreKeys = 2000
	// SignedPreKeyGrace is how long a replaced signed prekey is kept, so
	// that PreKey messages built from the old bundle still decrypt.
	SignedPreKeyGrace = 30 * 24 * time.Hour
	// maxRetiredSigned caps retired signed prekeys regardless of age.
	maxRetiredSigned = 4
)

// BundleSource fetches a peer device's prekey bundle from the server,
// for Encrypt when there is no session with that device yet. Each call
// normally consumes one of the peer's one-time prekeys on the server.
type BundleSource interface {
	FetchBundle(ctx context.Context, peer Address) (*Bundle, error)
}

// BundleSourceFunc adapts a function to BundleSource.
type BundleSourceFunc func(ctx context.Context, peer Address) (*Bundle, error)

var _ BundleSource = BundleSourceFunc(nil)

// FetchBundle calls f.
func (f BundleSourceFunc) FetchBundle(ctx context.Context, peer Address) (*Bundle, error) {
	return f(ctx, peer)
}

// Options configure a Device.
type Options struct {
	// Bundles is asked for a peer's bundle when Encrypt has no session.
	// Without it, Encrypt to a new peer fails with ErrNoSession.
	Bundles BundleSource
	// Clock stamps signed prekeys; the system clock by default.
	Clock parley.Clock
}

// Device holds one device's keys and sessions and performs every Signal
// operation with them. It never returns private key bytes; only Marshal
// exports the whole state, for storage.
//
// A Device is safe for concurrent use. Operations run one at a time under
// one mutex, except that Encrypt releases it while fetching a bundle.
// Every operation either completes or leaves the state unchanged.
type Device struct {
	mu      sync.Mutex
	self    Address
	opt     Options
	s       *state
	pending map[string]*Bundle // fetched bundles waiting for AcceptIdentity; memory only
}

// NewDevice creates the keys of a new device: an identity key pair, a
// registration id and a first signed prekey. One-time prekeys are made
// with GenerateOneTimePreKeys.
func NewDevice(self Address, opt Options) (*Device, error) {
	const op = "crypto.NewDevice"
	if err := self.Validate(); err != nil {
		return nil, newError(op, self, ErrMalformed, err)
	}
	ik, err := keyhelper.GenerateIdentityKeyPair()
	if err != nil {
		return nil, newError(op, self, ErrMalformed, err)
	}
	regID, err := rand.Int(rand.Reader, big.NewInt(16380))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	d := newDevice(self, opt, &state{
		regID:      uint32(regID.Int64()) + 1, // 1..16380, as Signal clients use
		identity:   ik,
		signed:     map[uint32]*signedPreKey{},
		nextSigned: 1,
		preKeys:    map[uint32][]byte{},
		nextPreKey: 1,
		sessions:   map[string][]byte{},
		identities: map[string]IdentityKey{},
		senderKeys: map[senderKeyID][]byte{},
	})
	if _, err := d.addSignedPreKey(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return d, nil
}

func newDevice(self Address, opt Options, s *state) *Device {
	if opt.Clock == nil {
		opt.Clock = parley.SystemClock{}
	}
	return &Device{self: self, opt: opt, s: s, pending: map[string]*Bundle{}}
}

// Address returns the device's own address.
func (d *Device) Address() Address { return d.self }

// IdentityKey returns the device's public identity key.
func (d *Device) IdentityKey() IdentityKey { return identityFromSignal(d.s.identity.PublicKey()) }

// RegistrationID returns the device's registration id (1..16380).
func (d *Device) RegistrationID() uint32 { return d.s.regID }

// Upload returns everything the server needs to hand out bundles for
// this device: identity key, current signed prekey and every unused
// one-time prekey. Use it once after registration; later batches come
// from GenerateOneTimePreKeys, so that the server never gets back a
// prekey it already handed out.
func (d *Device) Upload() (Upload, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	spk, err := d.currentSignedLocked()
	if err != nil {
		return Upload{}, err
	}
	ids := make([]uint32, 0, len(d.s.preKeys))
	for id := range d.s.preKeys {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	pks := make([]PreKey, 0, len(ids))
	for _, id := range ids {
		pks = append(pks, PreKey{ID: id, PublicKey: bytes.Clone(d.s.preKeys[id][:PublicKeySize])})
	}
	return Upload{RegistrationID: d.s.regID, IdentityKey: d.IdentityKey(), SignedPreKey: spk, PreKeys: pks}, nil
}

// PreKeyCount returns the number of unused one-time prekeys.
func (d *Device) PreKeyCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.s.preKeys)
}

// GenerateOneTimePreKeys makes n new one-time prekeys and returns their
// public halves for upload. A device keeps at most MaxPreKeys.
func (d *Device) GenerateOneTimePreKeys(ctx context.Context, n int) ([]PreKey, error) {
	const op = "crypto.GenerateOneTimePreKeys"
	d.mu.Lock()
	defer d.mu.Unlock()
	if n < 1 || len(d.s.preKeys)+n > MaxPreKeys {
		return nil, newError(op, Address{}, ErrMalformed, fmt.Errorf("%d prekeys requested, %d stored, at most %d", n, len(d.s.preKeys), MaxPreKeys))
	}
	out := make([]PreKey, 0, n)
	for range n {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kp, err := ecc.GenerateKeyPair()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		id := d.s.allocPreKeyID()
		d.s.preKeys[id] = encodeKeyPair(kp)
		out = append(out, PreKey{ID: id, PublicKey: kp.PublicKey().Serialize()})
	}
	return out, nil
}

// DropOldPreKeys deletes the oldest unused one-time prekeys until at most
// keep remain and returns how many it deleted. Prekeys that the server
// handed out but no sender used pile up on the device; a sender that
// still uses a dropped one gets its message refused (ErrUnknownPreKey on
// this side), which the retry mechanism repairs.
func (d *Device) DropOldPreKeys(keep int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := len(d.s.preKeys) - max(keep, 0)
	if n <= 0 {
		return 0
	}
	ids := make([]uint32, 0, len(d.s.preKeys))
	for id := range d.s.preKeys {
		ids = append(ids, id)
	}
	// Allocation order: ids count up from nextPreKey's last wrap.
	age := func(id uint32) uint32 { return (id - d.s.nextPreKey + medium.MaxValue) % medium.MaxValue }
	slices.SortFunc(ids, func(a, b uint32) int { return cmp.Compare(age(a), age(b)) })
	for _, id := range ids[:n] {
		delete(d.s.preKeys, id)
	}
	return n
}

// allocPreKeyID returns an unused id in 1..medium.MaxValue-1: 0 means "no
// prekey" on the wire and medium.MaxValue is never deleted by libsignal.
func (s *state) allocPreKeyID() uint32 {
	for {
		id := s.nextPreKey
		s.nextPreKey++
		if s.nextPreKey >= medium.MaxValue {
			s.nextPreKey = 1
		}
		if id == 0 || id >= medium.MaxValue {
			continue
		}
		if _, used := s.preKeys[id]; !used {
			return id
		}
	}
}

// RotateSignedPreKey makes a new signed prekey and returns it for upload.
// The previous one is kept for SignedPreKeyGrace (at most a few are kept)
// so that sessions started from a bundle fetched before the rotation
// still work.
func (d *Device) RotateSignedPreKey(ctx context.Context) (SignedPreKey, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return SignedPreKey{}, err
	}
	return d.addSignedPreKey()
}

func (d *Device) addSignedPreKey() (SignedPreKey, error) {
	now := d.opt.Clock.Now()
	kp, err := ecc.GenerateKeyPair()
	if err != nil {
		return SignedPreKey{}, err
	}
	id := d.s.nextSigned
	d.s.nextSigned++
	if d.s.nextSigned == 0 {
		d.s.nextSigned = 1
	}
	sig := ecc.CalculateSignature(d.s.identity.PrivateKey(), kp.PublicKey().Serialize())
	if cur, ok := d.s.signed[d.s.currentSigned]; ok {
		cur.Retired = now.UnixMilli()
	}
	d.s.signed[id] = &signedPreKey{Key: encodeKeyPair(kp), Signature: sig[:], Created: now.UnixMilli()}
	d.s.currentSigned = id
	d.s.pruneSigned(now)
	return SignedPreKey{ID: id, PublicKey: kp.PublicKey().Serialize(), Signature: sig[:]}, nil
}

func (s *state) pruneSigned(now time.Time) {
	var retired []uint32
	for id, sp := range s.signed {
		if sp.Retired == 0 {
			continue
		}
		if now.Sub(time.UnixMilli(sp.Retired)) > SignedPreKeyGrace {
			delete(s.signed, id)
			continue
		}
		retired = append(retired, id)
	}
	sort.Slice(retired, func(i, j int) bool { return s.signed[retired[i]].Retired > s.signed[retired[j]].Retired })
	for _, id := range retired[min(len(retired), maxRetiredSigned):] {
		delete(s.signed, id)
	}
}

func (d *Device) currentSignedLocked() (SignedPreKey, error) {
	sp, ok := d.s.signed[d.s.currentSigned]
	if !ok {
		return SignedPreKey{}, newError("crypto.Upload", Address{}, ErrMalformed, fmt.Errorf("no current signed prekey"))
	}
	return SignedPreKey{ID: d.s.currentSigned, PublicKey: bytes.Clone(sp.Key[:PublicKeySize]), Signature: bytes.Clone(sp.Signature)}, nil
}

// PeerIdentity returns the identity key stored for a peer device.
func (d *Device) PeerIdentity(peer Address) (IdentityKey, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k, ok := d.s.identities[peer.String()]
	if !ok {
		return IdentityKey{}, newError("crypto.PeerIdentity", peer, ErrNoIdentity, nil)
	}
	return k, nil
}

// PeerDevices returns the devices of account whose identity keys are
// stored (every device this device has had a session with), by number.
func (d *Device) PeerDevices(account string) []Address {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []Address
	for k := range d.s.identities {
		a, err := ParseAddress(k)
		if err == nil && a.Account == account {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b Address) int { return cmp.Compare(a.Device, b.Device) })
	return out
}
