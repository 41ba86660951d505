package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/keys/identity"
	"go.mau.fi/libsignal/keys/prekey"
	"go.mau.fi/libsignal/util/medium"
	"go.mau.fi/libsignal/util/optional"
)

// PublicKeySize is the size of a serialized Curve25519 public key: a type
// byte (0x05) and 32 key bytes, as in every Signal implementation.
const PublicKeySize = 33

// SignatureSize is the size of an XEdDSA signature.
const SignatureSize = 64

// MaxBundleSize bounds the JSON of one bundle read from the network.
const MaxBundleSize = 4 << 10

// IdentityKey is a device's public identity key (33 bytes). It is public:
// it goes into bundles and safety numbers. In JSON it is base64.
type IdentityKey [PublicKeySize]byte

// ParseIdentityKey checks and copies a serialized public key.
func ParseIdentityKey(b []byte) (IdentityKey, error) {
	var k IdentityKey
	if err := checkPublicKey(b); err != nil {
		return k, err
	}
	copy(k[:], b)
	return k, nil
}

// Bytes returns a copy of the key's 33 bytes.
func (k IdentityKey) Bytes() []byte { return bytes.Clone(k[:]) }

// String returns the key in standard base64.
func (k IdentityKey) String() string { return base64.StdEncoding.EncodeToString(k[:]) }

// IsZero reports whether k is unset.
func (k IdentityKey) IsZero() bool { return k == IdentityKey{} }

// MarshalText encodes the key as base64.
func (k IdentityKey) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText decodes a base64 key and checks its form.
func (k *IdentityKey) UnmarshalText(b []byte) error {
	raw, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		return fmt.Errorf("%w: identity key is not base64", ErrMalformed)
	}
	v, err := ParseIdentityKey(raw)
	if err != nil {
		return err
	}
	*k = v
	return nil
}

func (k IdentityKey) signal() *identity.Key {
	return identity.NewKey(ecc.NewDjbECPublicKey([32]byte(k[1:])))
}

func identityFromSignal(k *identity.Key) IdentityKey {
	var out IdentityKey
	copy(out[:], k.Serialize())
	return out
}

func checkPublicKey(b []byte) error {
	if len(b) != PublicKeySize || b[0] != ecc.DjbType {
		return fmt.Errorf("%w: public key must be %d bytes starting with 0x05", ErrMalformed, PublicKeySize)
	}
	return nil
}

// PreKey is the public half of a one-time prekey.
type PreKey struct {
	ID        uint32 `json:"id"`
	PublicKey []byte `json:"public_key"`
}

// SignedPreKey is the public half of a signed prekey and the identity
// key's XEdDSA signature over it.
type SignedPreKey struct {
	ID        uint32 `json:"id"`
	PublicKey []byte `json:"public_key"`
	Signature []byte `json:"signature"`
}

// Bundle is what a sender fetches from the server to start a session with
// one device: its identity key, current signed prekey and, while the
// server has any left, one one-time prekey (which the server hands out
// once). The device it belongs to is the address it was fetched for; it
// is deliberately not inside the bundle.
//
// JSON form (byte fields are standard base64):
//
//	{"registration_id":1234,"identity_key":"BQ…","signed_prekey":{"id":1,"public_key":"BQ…","signature":"…"},"prekey":{"id":17,"public_key":"BQ…"}}
type Bundle struct {
	RegistrationID uint32       `json:"registration_id"`
	IdentityKey    IdentityKey  `json:"identity_key"`
	SignedPreKey   SignedPreKey `json:"signed_prekey"`
	PreKey         *PreKey      `json:"prekey,omitempty"`
}

// Upload is what a device publishes to the server: its identity key, its
// current signed prekey and a batch of one-time prekeys. The server gives
// each one-time prekey to at most one sender.
type Upload struct {
	RegistrationID uint32       `json:"registration_id"`
	IdentityKey    IdentityKey  `json:"identity_key"`
	SignedPreKey   SignedPreKey `json:"signed_prekey"`
	PreKeys        []PreKey     `json:"prekeys"`
}

// Bundle returns the bundle the server would hand out with the one-time
// prekey at index i of u.PreKeys, or without one when i is out of range.
func (u *Upload) Bundle(i int) *Bundle {
	b := &Bundle{RegistrationID: u.RegistrationID, IdentityKey: u.IdentityKey, SignedPreKey: u.SignedPreKey}
	if i >= 0 && i < len(u.PreKeys) {
		pk := u.PreKeys[i]
		b.PreKey = &pk
	}
	return b
}

// DecodeBundle parses a bundle received from the network and validates
// it, including the signature. Unknown JSON fields are ignored, so that
// servers can add fields.
func DecodeBundle(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleSize {
		return nil, newError("crypto.DecodeBundle", Address{}, ErrMalformed, fmt.Errorf("bundle over %d bytes", MaxBundleSize))
	}
	var b Bundle
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, newError("crypto.DecodeBundle", Address{}, ErrMalformed, err)
	}
	if err := b.Validate(); err != nil {
		return nil, err
	}
	return &b, nil
}

// Validate checks the bundle's form and that its signed prekey carries a
// valid signature by its identity key.
func (b *Bundle) Validate() error {
	const op = "crypto.Bundle.Validate"
	if err := checkPublicKey(b.IdentityKey[:]); err != nil {
		return newError(op, Address{}, ErrMalformed, fmt.Errorf("identity key missing or invalid"))
	}
	if err := checkPublicKey(b.SignedPreKey.PublicKey); err != nil {
		return newError(op, Address{}, ErrMalformed, fmt.Errorf("signed prekey: %w", err))
	}
	if len(b.SignedPreKey.Signature) != SignatureSize {
		return newError(op, Address{}, ErrMalformed, fmt.Errorf("signed prekey signature must be %d bytes", SignatureSize))
	}
	if b.PreKey != nil {
		if err := checkPublicKey(b.PreKey.PublicKey); err != nil {
			return newError(op, Address{}, ErrMalformed, fmt.Errorf("one-time prekey: %w", err))
		}
		// 0 means "no prekey" in the PreKey message encoding, and
		// medium.MaxValue is libsignal's never-deleted last-resort id.
		if b.PreKey.ID == 0 || b.PreKey.ID >= medium.MaxValue {
			return newError(op, Address{}, ErrMalformed, fmt.Errorf("one-time prekey id out of range"))
		}
	}
	spk := ecc.NewDjbECPublicKey([32]byte(b.SignedPreKey.PublicKey[1:]))
	if !ecc.VerifySignature(b.IdentityKey.signal().PublicKey(), spk.Serialize(), [64]byte(b.SignedPreKey.Signature)) {
		return newError(op, Address{}, ErrBadSignature, nil)
	}
	return nil
}

// signal converts a validated bundle for the given device.
func (b *Bundle) signal(device uint32) *prekey.Bundle {
	spk := ecc.NewDjbECPublicKey([32]byte(b.SignedPreKey.PublicKey[1:]))
	var opk ecc.ECPublicKeyable // an untyped nil when absent: libsignal tests the interface for nil
	opkID := optional.NewEmptyUint32()
	if b.PreKey != nil {
		opk = ecc.NewDjbECPublicKey([32]byte(b.PreKey.PublicKey[1:]))
		opkID = optional.NewOptionalUint32(b.PreKey.ID)
	}
	return prekey.NewBundle(b.RegistrationID, device, opkID, b.SignedPreKey.ID, opk, spk,
		[64]byte(b.SignedPreKey.Signature), b.IdentityKey.signal())
}
