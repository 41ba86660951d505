package parley

import (
	"context"
	"strconv"
	"time"
)

// The key directory: what a device publishes so that others can start
// Signal sessions with it while it is offline (X3DH). The server stores
// and hands out public keys only; private keys never leave the devices.
//
// Security review: the server checks the shape of keys (lengths, the
// Curve25519 type byte) but cannot verify the XEdDSA signature over a
// signed prekey without a Signal library, and does not try. A client must
// verify every bundle it claims against the bundle's identity key before
// using it (the crypto package rejects bad signatures), and must compare
// identity keys out of band (safety numbers) to detect a server that
// substitutes them.

// Key sizes as libsignal serializes them.
const (
	PublicKeySize = 33   // KeyTypeDJB followed by a 32-byte Curve25519 public key
	SignatureSize = 64   // XEdDSA signature
	KeyTypeDJB    = 0x05 // libsignal's type byte for Curve25519 keys
)

// Limits of the key directory.
const (
	// MaxOneTimePrekeys is how many one-time prekeys a device may hold,
	// and so also the most one upload can carry.
	MaxOneTimePrekeys = 200
)

// SignedPrekey is a device's medium-term prekey, signed with its
// identity key. Devices rotate it; CreatedAt is set by the server when it
// first stores a key with this id and public key.
type SignedPrekey struct {
	ID        uint32
	PublicKey []byte
	Signature []byte
	CreatedAt time.Time
}

// Validate checks the shape of the key and signature. It cannot check
// that the signature is valid (see the comment at the top of this file).
func (k *SignedPrekey) Validate() error {
	if err := validPublicKey("signed prekey", k.PublicKey); err != nil {
		return err
	}
	if len(k.Signature) != SignatureSize {
		return Errorf(EINVALID, "signed prekey signature must be %d bytes, got %d", SignatureSize, len(k.Signature))
	}
	return nil
}

// OneTimePrekey is a prekey that is handed out once and then deleted.
type OneTimePrekey struct {
	ID        uint32
	PublicKey []byte
}

// ValidatePrekeys checks one upload of one-time prekeys: at most
// MaxOneTimePrekeys, each a well-formed public key. Duplicate ids are
// allowed; the store keeps the first key it saw for an id.
func ValidatePrekeys(keys []OneTimePrekey) error {
	if len(keys) > MaxOneTimePrekeys {
		return Errorf(ETOOLARGE, "at most %d one-time prekeys per upload, got %d", MaxOneTimePrekeys, len(keys))
	}
	for _, k := range keys {
		if err := validPublicKey("one-time prekey "+strconv.FormatUint(uint64(k.ID), 10), k.PublicKey); err != nil {
			return err
		}
	}
	return nil
}

// DeviceKeys is the long-lived part of what a device publishes: its
// identity key and registration id, which never change for the device
// (a new identity needs a new device), and its current signed prekey.
type DeviceKeys struct {
	Account        string
	Device         uint32
	IdentityKey    []byte
	RegistrationID uint32 // libsignal's per-installation id; 0 when the client has none
	SignedPrekey   SignedPrekey
}

// Validate checks the shape of the keys.
func (k *DeviceKeys) Validate() error {
	if err := validPublicKey("identity key", k.IdentityKey); err != nil {
		return err
	}
	return k.SignedPrekey.Validate()
}

// Bundle is what a sender claims to start a session with one device: the
// device's keys and at most one one-time prekey, which the claim removed
// from the device's pool. OneTimePrekey is nil when the pool was empty;
// X3DH works without one, with weaker protection of the first message
// against a later compromise of the signed prekey.
type Bundle struct {
	Account        string
	Device         uint32
	IdentityKey    []byte
	RegistrationID uint32
	SignedPrekey   SignedPrekey
	OneTimePrekey  *OneTimePrekey
	Remaining      int // one-time prekeys the device holds after this claim
}

// KeyStatus is what a device needs to decide whether to publish more
// keys.
type KeyStatus struct {
	OneTimePrekeys int       // one-time prekeys left in the pool
	SignedPrekeyAt time.Time // when the current signed prekey was stored
}

// KeyStore keeps the key directory. Every method that changes a device's
// keys serializes with the others on that device, so a one-time prekey is
// handed out at most once, however many nodes claim at the same time.
// Revoking a device deletes its keys in the same transaction.
type KeyStore interface {
	// PutKeys stores the device's identity key, registration id and
	// signed prekey, and adds prekeys to its pool, in one transaction.
	// The identity key and registration id are written once: a different
	// one fails with ECONFLICT. The same ones again replace the signed
	// prekey (keeping its CreatedAt when id and key are unchanged).
	// ENOTFOUND when the device is unknown or revoked; ETOOLARGE (and
	// nothing stored) when the pool would exceed MaxOneTimePrekeys. It
	// returns the number of one-time prekeys the device holds.
	PutKeys(ctx context.Context, k *DeviceKeys, prekeys []OneTimePrekey) (held int, err error)
	// AddPrekeys adds one-time prekeys to the device's pool, ignoring ids
	// it holds already. ENOTFOUND when the device has published no keys;
	// ETOOLARGE (and nothing added) when the pool would exceed
	// MaxOneTimePrekeys.
	AddPrekeys(ctx context.Context, account string, device uint32, prekeys []OneTimePrekey) (held int, err error)
	// RotateSignedPrekey replaces the device's signed prekey; ENOTFOUND
	// when the device has published no keys.
	RotateSignedPrekey(ctx context.Context, account string, device uint32, k *SignedPrekey) error
	// ClaimBundles returns a bundle for each of the account's listed
	// devices that is active and has published keys, by device id, and
	// deletes the one-time prekey of each bundle, in one transaction.
	// Devices without keys are left out.
	ClaimBundles(ctx context.Context, account string, devices []uint32) ([]Bundle, error)
	// KeyStatus returns ENOTFOUND when the device has published no keys.
	KeyStatus(ctx context.Context, account string, device uint32) (*KeyStatus, error)
}

func validPublicKey(what string, k []byte) error {
	if len(k) != PublicKeySize {
		return Errorf(EINVALID, "%s must be %d bytes (0x05 and a Curve25519 public key), got %d", what, PublicKeySize, len(k))
	}
	if k[0] != KeyTypeDJB {
		return Errorf(EINVALID, "%s must start with 0x05 (Curve25519), got 0x%02x", what, k[0])
	}
	return nil
}
