package crypto

import (
	"crypto/ecdh"
	"encoding/json"
	"fmt"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
)

// stateVersion is the version of the Marshal format.
const stateVersion = 1

// stored is the Marshal format: JSON, byte fields base64. Records are
// libsignal's own serialization (JSON) of sessions, prekeys and sender
// keys; every per-peer map is keyed by Address.String().
type stored struct {
	Version         int                          `json:"v"`
	Account         string                       `json:"account"`
	Device          uint32                       `json:"device"`
	RegistrationID  uint32                       `json:"registration_id"`
	IdentityPublic  []byte                       `json:"identity_public"`
	IdentityPrivate []byte                       `json:"identity_private"`
	SignedPreKeys   map[uint32]*signedPreKey     `json:"signed_prekeys"`
	CurrentSigned   uint32                       `json:"current_signed_prekey"`
	NextSigned      uint32                       `json:"next_signed_prekey_id"`
	PreKeys         map[uint32][]byte            `json:"prekeys"`
	NextPreKey      uint32                       `json:"next_prekey_id"`
	Sessions        map[string][]byte            `json:"sessions"`
	Identities      map[string]IdentityKey       `json:"identities"`
	SenderKeys      map[string]map[string][]byte `json:"sender_keys"` // group → sender → record
}

// Marshal returns the whole state: identity key pair, prekeys, sessions,
// peer identities and sender keys. The result contains private keys:
// store it only where the device's other secrets live (a 0600 file in the
// profile directory, IndexedDB in a browser), and store it again after
// every operation that changed the state (Encrypt, Decrypt, group and
// key operations).
func (d *Device) Marshal() ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := d.s
	priv := s.identity.PrivateKey().Serialize()
	out := stored{
		Version:         stateVersion,
		Account:         d.self.Account,
		Device:          d.self.Device,
		RegistrationID:  s.regID,
		IdentityPublic:  s.identity.PublicKey().Serialize(),
		IdentityPrivate: priv[:],
		SignedPreKeys:   s.signed,
		CurrentSigned:   s.currentSigned,
		NextSigned:      s.nextSigned,
		PreKeys:         s.preKeys,
		NextPreKey:      s.nextPreKey,
		Sessions:        s.sessions,
		Identities:      s.identities,
		SenderKeys:      map[string]map[string][]byte{},
	}
	for k, v := range s.senderKeys {
		g := out.SenderKeys[k.Group]
		if g == nil {
			g = map[string][]byte{}
			out.SenderKeys[k.Group] = g
		}
		g[k.Sender] = v
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("crypto.Marshal: %w", err)
	}
	return b, nil
}

// Unmarshal restores a Device from Marshal's output.
func Unmarshal(data []byte, opt Options) (*Device, error) {
	const op = "crypto.Unmarshal"
	var in stored
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, newError(op, Address{}, ErrMalformed, err)
	}
	if in.Version != stateVersion {
		return nil, newError(op, Address{}, ErrMalformed, fmt.Errorf("state version %d, want %d", in.Version, stateVersion))
	}
	self := Address{Account: in.Account, Device: in.Device}
	if err := self.Validate(); err != nil {
		return nil, newError(op, Address{}, ErrMalformed, err)
	}
	if err := checkPublicKey(in.IdentityPublic); err != nil || len(in.IdentityPrivate) != 32 {
		return nil, newError(op, self, ErrMalformed, fmt.Errorf("bad identity key pair"))
	}
	// The private key must belong to the public key.
	xpriv, err := ecdh.X25519().NewPrivateKey(in.IdentityPrivate)
	if err != nil || string(xpriv.PublicKey().Bytes()) != string(in.IdentityPublic[1:]) {
		return nil, newError(op, self, ErrMalformed, fmt.Errorf("identity private key does not match the public key"))
	}
	if sp := in.SignedPreKeys[in.CurrentSigned]; sp == nil || sp.Retired != 0 {
		return nil, newError(op, self, ErrMalformed, fmt.Errorf("no current signed prekey"))
	}
	s := &state{
		regID: in.RegistrationID,
		identity: identity.NewKeyPair(
			identity.NewKey(ecc.NewDjbECPublicKey([32]byte(in.IdentityPublic[1:]))),
			ecc.NewDjbECPrivateKey([32]byte(in.IdentityPrivate))),
		signed:        orEmpty(in.SignedPreKeys),
		currentSigned: in.CurrentSigned,
		nextSigned:    in.NextSigned,
		preKeys:       orEmpty(in.PreKeys),
		nextPreKey:    in.NextPreKey,
		sessions:      orEmpty(in.Sessions),
		identities:    orEmpty(in.Identities),
		senderKeys:    map[senderKeyID][]byte{},
	}
	for id, sp := range s.signed {
		if sp == nil || len(sp.Signature) != SignatureSize {
			return nil, newError(op, self, ErrMalformed, fmt.Errorf("bad signed prekey %d", id))
		}
		if _, err := decodeKeyPair(sp.Key); err != nil {
			return nil, newError(op, self, ErrMalformed, fmt.Errorf("signed prekey %d: %w", id, err))
		}
	}
	for id, kp := range s.preKeys {
		if _, err := decodeKeyPair(kp); err != nil || id == 0 {
			return nil, newError(op, self, ErrMalformed, fmt.Errorf("bad one-time prekey %d", id))
		}
	}
	for k := range s.sessions {
		if _, err := ParseAddress(k); err != nil {
			return nil, newError(op, self, ErrMalformed, fmt.Errorf("session key %q: %w", k, err))
		}
	}
	for k, v := range s.identities {
		if _, err := ParseAddress(k); err != nil || checkPublicKey(v[:]) != nil {
			return nil, newError(op, self, ErrMalformed, fmt.Errorf("bad identity entry %q", k))
		}
	}
	for g, senders := range in.SenderKeys {
		for sender, rec := range senders {
			if _, err := ParseAddress(sender); err != nil || checkGroupID(g) != nil {
				return nil, newError(op, self, ErrMalformed, fmt.Errorf("bad sender key entry"))
			}
			s.senderKeys[senderKeyID{Group: g, Sender: sender}] = rec
		}
	}
	return newDevice(self, opt, s), nil
}

func orEmpty[K comparable, V any](m map[K]V) map[K]V {
	if m == nil {
		return map[K]V{}
	}
	return m
}
