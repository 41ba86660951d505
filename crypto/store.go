package crypto

import (
	"context"
	"fmt"
	"sort"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/serialize"
	"go.mau.fi/libsignal/state/record"
	"go.mau.fi/libsignal/state/store"

	grouprecord "go.mau.fi/libsignal/groups/state/record"
)

// ser encodes libsignal's records (JSON for stored records, protobuf for
// wire messages). It is stateless and shared.
var ser = serialize.NewProtoBufSerializer()

// senderKeyID names a sender key: a group and the sender's device address
// (String form). A struct of strings, never a pointer.
type senderKeyID struct {
	Group, Sender string
}

// signedPreKey is one of this device's signed prekeys, current or retired.
type signedPreKey struct {
	Key       []byte `json:"key"`       // public (33) || private (32)
	Signature []byte `json:"signature"` // by the identity key, over the public key
	Created   int64  `json:"created"`   // Unix ms
	Retired   int64  `json:"retired"`   // Unix ms when it was replaced; 0 for the current one
}

// Prekeys are kept as public (33 bytes) || private (32 bytes) rather than
// as libsignal records: libsignal v0.2.1 decodes the 33-byte public key of
// a serialized PreKey or SignedPreKey record into 32 bytes including the
// type byte, so a record that went through its serializer has a wrong
// public key (and a device replying from it sends a wrong ratchet key).
const keyPairSize = PublicKeySize + 32

func encodeKeyPair(kp *ecc.ECKeyPair) []byte {
	priv := kp.PrivateKey().Serialize()
	return append(kp.PublicKey().Serialize(), priv[:]...)
}

func decodeKeyPair(b []byte) (*ecc.ECKeyPair, error) {
	if len(b) != keyPairSize || b[0] != ecc.DjbType {
		return nil, fmt.Errorf("%w: stored key pair of %d bytes", ErrMalformed, len(b))
	}
	return ecc.NewECKeyPair(ecc.NewDjbECPublicKey([32]byte(b[1:PublicKeySize])),
		ecc.NewDjbECPrivateKey([32]byte(b[PublicKeySize:]))), nil
}

// state is everything a device stores. Records are kept serialized:
// libsignal mutates records while decrypting, before it has checked the
// MAC, so every operation works on decoded copies and only a successful
// operation writes back (see txn). Decoded sessions are cached (decoded)
// but never survive an operation that failed after loading them.
type state struct {
	regID         uint32
	identity      *identity.KeyPair
	signed        map[uint32]*signedPreKey
	currentSigned uint32
	nextSigned    uint32
	preKeys       map[uint32][]byte // key pairs, see encodeKeyPair
	nextPreKey    uint32
	sessions      map[string][]byte      // by Address.String()
	identities    map[string]IdentityKey // peers' identity keys, by Address.String()
	senderKeys    map[senderKeyID][]byte

	// decoded caches session records as decoded objects (memory only):
	// JSON-decoding the record is about a sixth of the cost of a message.
	// An entry is always equal to decoding sessions[k]; an operation that
	// loaded it and did not commit a new version evicts it (see txn.close),
	// because libsignal may have mutated it.
	decoded map[string]*record.Session
}

// maxDecoded bounds the decoded-session cache.
const maxDecoded = 128

// noSessionCache turns the cache off (tests compare both ways).
var noSessionCache = false

func (s *state) cacheSession(k string, r *record.Session) {
	if noSessionCache {
		return
	}
	if s.decoded == nil {
		s.decoded = make(map[string]*record.Session)
	}
	if _, ok := s.decoded[k]; !ok && len(s.decoded) >= maxDecoded {
		for old := range s.decoded { // evict an arbitrary entry
			delete(s.decoded, old)
			break
		}
	}
	s.decoded[k] = r
}

// decodeSession returns a fresh copy of a stored session record, without
// touching the cache; for read-only inspection.
func (s *state) decodeSession(k string) (*record.Session, bool) {
	b, ok := s.sessions[k]
	if !ok {
		return nil, false
	}
	var r *record.Session
	err := safely(func() error {
		var err error
		r, err = record.NewSessionFromBytes(b, ser.Session, ser.State)
		return err
	})
	return r, err == nil
}

// overlay buffers the writes of one operation to a map of records.
type overlay[K comparable] struct {
	base map[K][]byte
	w    map[K][]byte // a nil value marks a deletion
}

func (o *overlay[K]) get(k K) ([]byte, bool) {
	if v, ok := o.w[k]; ok {
		return v, v != nil
	}
	v, ok := o.base[k]
	return v, ok
}

func (o *overlay[K]) put(k K, v []byte) {
	if o.w == nil {
		o.w = make(map[K][]byte)
	}
	if v == nil {
		v = []byte{}
	}
	o.w[k] = v
}

func (o *overlay[K]) del(k K) {
	if o.w == nil {
		o.w = make(map[K][]byte)
	}
	o.w[k] = nil
}

func (o *overlay[K]) keys() []K {
	var ks []K
	for k := range o.base {
		if v, ok := o.w[k]; !ok || v != nil {
			ks = append(ks, k)
		}
	}
	for k, v := range o.w {
		if _, inBase := o.base[k]; !inBase && v != nil {
			ks = append(ks, k)
		}
	}
	return ks
}

func (o *overlay[K]) commit() {
	for k, v := range o.w {
		if v == nil {
			delete(o.base, k)
		} else {
			o.base[k] = v
		}
	}
	o.w = nil
}

// txn is one operation's view of the state: libsignal's store interfaces,
// with writes held back until commit. An operation that fails (bad MAC,
// panic, changed identity) is simply not committed, so the state never
// holds half an operation.
type txn struct {
	s          *state
	sessions   overlay[string]
	preKeys    overlay[uint32]
	senderKeys overlay[senderKeyID]
	identities map[string]IdentityKey
	stored     map[string]*record.Session // session objects stored by this operation
	loaded     map[string]bool            // sessions handed out from the cache
	committed  bool

	// When acceptChanged is set (decryption), an identity differing from
	// the stored one is let through and recorded in changed, so that the
	// operation can finish, be discarded, and report the new key only if
	// the message was otherwise valid.
	acceptChanged bool
	changed       *IdentityKey
	changedOld    IdentityKey
}

var _ store.SignalProtocol = (*txn)(nil)

func (s *state) begin(acceptChanged bool) *txn {
	return &txn{
		s:             s,
		sessions:      overlay[string]{base: s.sessions},
		preKeys:       overlay[uint32]{base: s.preKeys},
		senderKeys:    overlay[senderKeyID]{base: s.senderKeys},
		acceptChanged: acceptChanged,
	}
}

func (t *txn) commit() {
	for k, r := range t.stored {
		if v, ok := t.sessions.w[k]; ok && v != nil {
			// Rebuilt from its structure rather than cached as is: the
			// record libsignal worked on still says it is "fresh" (never
			// stored), and a fresh record is overwritten instead of archived
			// by the next PreKey message.
			var c *record.Session
			if safely(func() (err error) {
				c, err = record.NewSessionFromStructure(r.Structure(), ser.Session, ser.State)
				return err
			}) == nil {
				t.s.cacheSession(k, c)
			} else {
				delete(t.s.decoded, k)
			}
		}
	}
	for k, v := range t.sessions.w {
		if v == nil {
			delete(t.s.decoded, k) // deleted by the operation
		}
	}
	t.committed = true
	t.sessions.commit()
	t.preKeys.commit()
	t.senderKeys.commit()
	for k, v := range t.identities {
		t.s.identities[k] = v
	}
	t.identities = nil
}

// close ends the operation: cached sessions it loaded are evicted unless
// it committed a new version of them. Every operation defers it.
func (t *txn) close() {
	for k := range t.loaded {
		if _, ok := t.stored[k]; !ok || !t.committed {
			delete(t.s.decoded, k)
		}
	}
}

func (t *txn) identity(k string) (IdentityKey, bool) {
	if v, ok := t.identities[k]; ok {
		return v, true
	}
	v, ok := t.s.identities[k]
	return v, ok
}

// IdentityKey store.

func (t *txn) GetIdentityKeyPair() *identity.KeyPair { return t.s.identity }
func (t *txn) GetLocalRegistrationID() uint32        { return t.s.regID }

func (t *txn) SaveIdentity(_ context.Context, a *protocol.SignalAddress, k *identity.Key) error {
	if t.identities == nil {
		t.identities = make(map[string]IdentityKey)
	}
	t.identities[key(a)] = identityFromSignal(k)
	return nil
}

func (t *txn) IsTrustedIdentity(_ context.Context, a *protocol.SignalAddress, k *identity.Key) (bool, error) {
	stored, ok := t.identity(key(a))
	got := identityFromSignal(k)
	if !ok || stored == got {
		return true, nil
	}
	if t.acceptChanged {
		t.changed, t.changedOld = &got, stored
		return true, nil
	}
	return false, nil
}

// PreKey store.

func (t *txn) LoadPreKey(_ context.Context, id uint32) (*record.PreKey, error) {
	b, ok := t.preKeys.get(id)
	if !ok {
		return nil, nil // libsignal turns nil into ErrNoOneTimeKeyFound
	}
	kp, err := decodeKeyPair(b)
	if err != nil {
		return nil, err
	}
	return record.NewPreKey(id, kp, ser.PreKeyRecord), nil
}

func (t *txn) StorePreKey(_ context.Context, id uint32, r *record.PreKey) error {
	t.preKeys.put(id, encodeKeyPair(r.KeyPair()))
	return nil
}

func (t *txn) ContainsPreKey(_ context.Context, id uint32) (bool, error) {
	_, ok := t.preKeys.get(id)
	return ok, nil
}

func (t *txn) RemovePreKey(_ context.Context, id uint32) error {
	t.preKeys.del(id)
	return nil
}

// SignedPreKey store. libsignal only reads signed prekeys; the Device
// changes them directly, outside operations.

func (t *txn) LoadSignedPreKey(_ context.Context, id uint32) (*record.SignedPreKey, error) {
	sp, ok := t.s.signed[id]
	if !ok {
		return nil, nil // libsignal turns nil into ErrNoSignedPreKey
	}
	kp, err := decodeKeyPair(sp.Key)
	if err != nil {
		return nil, err
	}
	if len(sp.Signature) != SignatureSize {
		return nil, fmt.Errorf("%w: stored signature of %d bytes", ErrMalformed, len(sp.Signature))
	}
	return record.NewSignedPreKey(id, sp.Created, kp, [64]byte(sp.Signature), ser.SignedPreKeyRecord), nil
}

func (t *txn) LoadSignedPreKeys(ctx context.Context) ([]*record.SignedPreKey, error) {
	ids := make([]uint32, 0, len(t.s.signed))
	for id := range t.s.signed {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := make([]*record.SignedPreKey, 0, len(ids))
	for _, id := range ids {
		r, err := t.LoadSignedPreKey(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func (t *txn) StoreSignedPreKey(context.Context, uint32, *record.SignedPreKey) error {
	return fmt.Errorf("signed prekeys are managed by the Device")
}

func (t *txn) ContainsSignedPreKey(_ context.Context, id uint32) (bool, error) {
	_, ok := t.s.signed[id]
	return ok, nil
}

func (t *txn) RemoveSignedPreKey(context.Context, uint32) error {
	return fmt.Errorf("signed prekeys are managed by the Device")
}

// Session store.

func (t *txn) LoadSession(_ context.Context, a *protocol.SignalAddress) (*record.Session, error) {
	k := key(a)
	if r, ok := t.stored[k]; ok {
		return r, nil
	}
	b, ok := t.sessions.get(k)
	if !ok {
		return record.NewSession(ser.Session, ser.State), nil
	}
	if _, written := t.sessions.w[k]; !written {
		if r, ok := t.s.decoded[k]; ok {
			if t.loaded == nil {
				t.loaded = make(map[string]bool)
			}
			t.loaded[k] = true
			return r, nil
		}
	}
	return record.NewSessionFromBytes(b, ser.Session, ser.State)
}

func (t *txn) GetSubDeviceSessions(_ context.Context, name string) ([]uint32, error) {
	var devs []uint32
	for _, k := range t.sessions.keys() {
		if a, err := ParseAddress(k); err == nil && a.Account == name {
			devs = append(devs, a.Device)
		}
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i] < devs[j] })
	return devs, nil
}

func (t *txn) StoreSession(_ context.Context, a *protocol.SignalAddress, r *record.Session) error {
	k := key(a)
	t.sessions.put(k, r.Serialize())
	if t.stored == nil {
		t.stored = make(map[string]*record.Session)
	}
	t.stored[k] = r
	return nil
}

func (t *txn) ContainsSession(_ context.Context, a *protocol.SignalAddress) (bool, error) {
	_, ok := t.sessions.get(key(a))
	return ok, nil
}

func (t *txn) DeleteSession(_ context.Context, a *protocol.SignalAddress) error {
	t.sessions.del(key(a))
	delete(t.stored, key(a))
	return nil
}

func (t *txn) DeleteAllSessions(context.Context) error {
	for _, k := range t.sessions.keys() {
		t.sessions.del(k)
		delete(t.stored, k)
	}
	return nil
}

// SenderKey store.

func (t *txn) StoreSenderKey(_ context.Context, n *protocol.SenderKeyName, r *grouprecord.SenderKey) error {
	t.senderKeys.put(senderKeyID{Group: n.GroupID(), Sender: key(n.Sender())}, r.Serialize())
	return nil
}

// LoadSenderKey never returns nil: libsignal's GroupCipher calls methods
// on the result without checking.
func (t *txn) LoadSenderKey(_ context.Context, n *protocol.SenderKeyName) (*grouprecord.SenderKey, error) {
	b, ok := t.senderKeys.get(senderKeyID{Group: n.GroupID(), Sender: key(n.Sender())})
	if !ok {
		return grouprecord.NewSenderKey(ser.SenderKeyRecord, ser.SenderKeyState), nil
	}
	return grouprecord.NewSenderKeyFromBytes(b, ser.SenderKeyRecord, ser.SenderKeyState)
}
