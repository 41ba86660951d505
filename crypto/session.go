package crypto

import (
	"context"
	"fmt"

	"go.mau.fi/libsignal/protocol"
	"go.mau.fi/libsignal/session"
)

// Encrypt seals plaintext for one peer device. Without a session it
// fetches the peer's bundle from Options.Bundles, checks its signature
// and starts one (X3DH); until the peer answers, messages are PreKey
// messages, afterwards Whisper messages.
//
// If the fetched bundle's identity key differs from the one stored for
// the peer, Encrypt returns an *IdentityChangedError and keeps the bundle
// until AcceptIdentity or ResetSession.
func (d *Device) Encrypt(ctx context.Context, peer Address, plaintext []byte) (Ciphertext, error) {
	const op = "crypto.Encrypt"
	if err := peer.Validate(); err != nil {
		return Ciphertext{}, newError(op, peer, ErrMalformed, err)
	}
	if peer == d.self {
		return Ciphertext{}, newError(op, peer, ErrMalformed, fmt.Errorf("encrypting to this device itself"))
	}
	if len(plaintext) > MaxPlaintextSize {
		return Ciphertext{}, newError(op, peer, ErrMalformed, fmt.Errorf("plaintext over %d bytes", MaxPlaintextSize))
	}
	framed := frame(d.self, plaintext)

	d.mu.Lock()
	if d.hasSessionLocked(peer) {
		defer d.mu.Unlock()
		return d.encryptLocked(ctx, op, peer, framed, nil)
	}
	b := d.pending[peer.String()]
	d.mu.Unlock()

	if b == nil {
		if d.opt.Bundles == nil {
			return Ciphertext{}, newError(op, peer, ErrNoSession, fmt.Errorf("no bundle source configured"))
		}
		var err error
		b, err = d.opt.Bundles.FetchBundle(ctx, peer)
		if err != nil {
			return Ciphertext{}, fmt.Errorf("%s %s: fetch bundle: %w", op, peer, err)
		}
		if b == nil {
			return Ciphertext{}, newError(op, peer, ErrMalformed, fmt.Errorf("bundle source returned no bundle"))
		}
		if err := b.Validate(); err != nil {
			return Ciphertext{}, fmt.Errorf("%s %s: %w", op, peer, err)
		}
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.hasSessionLocked(peer) { // made while the lock was released
		return d.encryptLocked(ctx, op, peer, framed, nil)
	}
	if old, ok := d.s.identities[peer.String()]; ok && old != b.IdentityKey {
		d.pending[peer.String()] = b
		return Ciphertext{}, d.identityChanged(peer, old, b.IdentityKey)
	}
	ct, err := d.encryptLocked(ctx, op, peer, framed, b)
	if err == nil {
		delete(d.pending, peer.String())
	}
	return ct, err
}

// encryptLocked encrypts in one transaction, first starting a session
// from b when b is not nil.
func (d *Device) encryptLocked(ctx context.Context, op string, peer Address, framed []byte, b *Bundle) (Ciphertext, error) {
	tx := d.s.begin(false)
	defer tx.close()
	sa := peer.signal()
	var msg protocol.CiphertextMessage
	err := safely(func() error {
		builder := session.NewBuilderFromSignal(tx, sa, ser)
		if b != nil {
			if err := builder.ProcessBundle(ctx, b.signal(peer.Device)); err != nil {
				return err
			}
		}
		var err error
		msg, err = session.NewCipher(builder, sa).Encrypt(ctx, framed)
		return err
	})
	if err != nil {
		return Ciphertext{}, newError(op, peer, kindOf(err, ErrMalformed), err)
	}
	tx.commit()
	return Ciphertext{Type: MessageType(msg.Type()), Body: msg.Serialize()}, nil
}

// Decrypt opens a PreKey or Whisper message delivered as coming from the
// device `from`. A PreKey message starts (or restarts) the session and
// consumes the one-time prekey it names.
//
// Failures: ErrDuplicate (replay), ErrAuthFailed (tampered, or another
// session), ErrNoSession (peer should start over), ErrUnknownPreKey,
// ErrSenderMismatch, ErrMalformed, and *IdentityChangedError when the
// message is valid but comes from a new identity key; in every case the
// state is unchanged, so after AcceptIdentity the same message decrypts.
func (d *Device) Decrypt(ctx context.Context, from Address, ct Ciphertext) ([]byte, error) {
	const op = "crypto.Decrypt"
	if err := from.Validate(); err != nil {
		return nil, newError(op, from, ErrMalformed, err)
	}
	if err := ct.check(); err != nil {
		return nil, newError(op, from, ErrMalformed, err)
	}
	if ct.Type == TypeSenderKey {
		return nil, newError(op, from, ErrMalformed, fmt.Errorf("group message: use GroupDecrypt"))
	}
	if from == d.self {
		return nil, newError(op, from, ErrSenderMismatch, fmt.Errorf("message claims to come from this device"))
	}

	d.mu.Lock()
	defer d.mu.Unlock()
	tx := d.s.begin(true)
	defer tx.close()
	sa := from.signal()
	var plain []byte
	var parsed bool
	err := safely(func() error {
		builder := session.NewBuilderFromSignal(tx, sa, ser)
		cipher := session.NewCipher(builder, sa)
		if ct.Type == TypePreKey {
			msg, err := protocol.NewPreKeySignalMessageFromBytes(ct.Body, ser.PreKeySignalMessage, ser.SignalMessage)
			if err != nil {
				return err
			}
			parsed = true
			plain, err = decryptPreKey(ctx, tx, builder, cipher, sa, msg)
			return err
		}
		msg, err := protocol.NewSignalMessageFromBytes(ct.Body, ser.SignalMessage)
		if err != nil {
			return err
		}
		parsed = true
		plain, err = decryptWhisper(ctx, tx, cipher, sa, msg)
		return err
	})
	if err != nil {
		def := ErrAuthFailed
		if !parsed {
			def = ErrMalformed
		}
		return nil, newError(op, from, kindOf(err, def), err)
	}
	if tx.changed != nil {
		return nil, d.identityChanged(from, tx.changedOld, *tx.changed)
	}
	sender, payload, err := unframe(plain)
	if err != nil {
		return nil, newError(op, from, ErrMalformed, err)
	}
	if sender != from {
		return nil, newError(op, from, ErrSenderMismatch, fmt.Errorf("sealed by %s", sender))
	}
	tx.commit()
	return payload, nil
}

// HasSession reports whether there is a session with the peer device.
func (d *Device) HasSession(peer Address) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.hasSessionLocked(peer)
}

func (d *Device) hasSessionLocked(peer Address) bool {
	k := peer.String()
	if r, ok := d.s.decoded[k]; ok {
		return r.SessionState().HasSenderChain()
	}
	r, ok := d.s.decodeSession(k)
	return ok && r.SessionState().HasSenderChain()
}

// ResetSession forgets the session with the peer device (and any bundle
// waiting for AcceptIdentity). The next Encrypt fetches a new bundle and
// starts over with a PreKey message, which the peer accepts even if it
// still has the old session. Use it when the peer reports that it cannot
// decrypt (it lost its state) or after repeated ErrAuthFailed.
// The peer's identity key stays stored.
func (d *Device) ResetSession(ctx context.Context, peer Address) error {
	if err := peer.Validate(); err != nil {
		return newError("crypto.ResetSession", peer, ErrMalformed, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.s.sessions, peer.String())
	delete(d.s.decoded, peer.String())
	delete(d.pending, peer.String())
	return ctx.Err()
}

// AcceptIdentity trusts key as the peer device's identity from now on,
// typically the New key of an *IdentityChangedError after the user has
// seen the notice (or compared safety numbers). A session built with a
// different identity is dropped.
func (d *Device) AcceptIdentity(ctx context.Context, peer Address, key IdentityKey) error {
	const op = "crypto.AcceptIdentity"
	if err := peer.Validate(); err != nil {
		return newError(op, peer, ErrMalformed, err)
	}
	if err := checkPublicKey(key[:]); err != nil {
		return newError(op, peer, ErrMalformed, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	k := peer.String()
	d.s.identities[k] = key
	if b := d.pending[k]; b != nil && b.IdentityKey != key {
		delete(d.pending, k)
	}
	if r, ok := d.s.decodeSession(k); ok {
		st := r.SessionState()
		if !st.HasSenderChain() || st.RemoteIdentityKey() == nil || identityFromSignal(st.RemoteIdentityKey()) != key {
			delete(d.s.sessions, k)
			delete(d.s.decoded, k)
		}
	}
	return nil
}

func (d *Device) identityChanged(peer Address, old, new IdentityKey) error {
	e := &IdentityChangedError{Peer: peer, Old: old, New: new}
	sn, err := NewSafetyNumber(
		Party{Account: d.self.Account, Keys: []IdentityKey{d.IdentityKey()}},
		Party{Account: peer.Account, Keys: []IdentityKey{new}})
	if err == nil {
		e.SafetyNumber = sn
	}
	return e
}
