package crypto

import (
	"bytes"
	"fmt"
)

// MaxCiphertextSize is the largest encoded Ciphertext: the protocol's
// limit for one device copy's body.
const MaxCiphertextSize = 64 << 10

// MaxPlaintextSize is the largest plaintext Encrypt and GroupEncrypt take,
// leaving room for the envelope, Signal framing, padding and MAC.
const MaxPlaintextSize = MaxCiphertextSize - 1024

// MessageType says how a ciphertext body is to be decrypted. The values
// are libsignal's (go.mau.fi/libsignal numbering; the TypeScript port
// numbers Whisper as 1).
type MessageType uint8

const (
	// TypeWhisper is a Double Ratchet message in an established session.
	TypeWhisper MessageType = 2
	// TypePreKey starts a session (X3DH) and carries a Whisper message.
	TypePreKey MessageType = 3
	// TypeSenderKey is a group message encrypted with a sender key.
	TypeSenderKey MessageType = 4
)

func (t MessageType) String() string {
	switch t {
	case TypeWhisper:
		return "whisper"
	case TypePreKey:
		return "prekey"
	case TypeSenderKey:
		return "senderkey"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// envelopeVersion is the first byte of every encoded Ciphertext.
const envelopeVersion = 1

// signalVersionByte starts every libsignal message body: the protocol
// version 3 in both nibbles.
const signalVersionByte = 3<<4 | 3

// Ciphertext is one encrypted message: what goes, encoded, into the
// protocol's per-device `body`.
//
// Encoding: version (1 byte, 1) | type (1 byte, MessageType) | body (the
// libsignal serialization of the message).
type Ciphertext struct {
	Type MessageType
	Body []byte
}

// Encode returns the wire form.
func (c Ciphertext) Encode() []byte {
	out := make([]byte, 0, 2+len(c.Body))
	return append(append(out, envelopeVersion, byte(c.Type)), c.Body...)
}

// minBody is the smallest body libsignal can parse per type: the version
// byte, then for Whisper an 8-byte MAC and for SenderKey a 64-byte
// signature, plus at least one byte of protobuf.
var minBody = map[MessageType]int{TypeWhisper: 1 + 8 + 1, TypePreKey: 1 + 1, TypeSenderKey: 1 + 64 + 1}

// DecodeCiphertext parses the wire form. It checks sizes and types only;
// authenticity is checked by Decrypt and GroupDecrypt. The body is a copy.
func DecodeCiphertext(b []byte) (Ciphertext, error) {
	const op = "crypto.DecodeCiphertext"
	if len(b) > MaxCiphertextSize {
		return Ciphertext{}, newError(op, Address{}, ErrMalformed, fmt.Errorf("ciphertext over %d bytes", MaxCiphertextSize))
	}
	if len(b) < 2 {
		return Ciphertext{}, newError(op, Address{}, ErrMalformed, fmt.Errorf("ciphertext too short"))
	}
	if b[0] != envelopeVersion {
		return Ciphertext{}, newError(op, Address{}, ErrMalformed, fmt.Errorf("unknown envelope version %d", b[0]))
	}
	c := Ciphertext{Type: MessageType(b[1]), Body: bytes.Clone(b[2:])}
	if err := c.check(); err != nil {
		return Ciphertext{}, newError(op, Address{}, ErrMalformed, err)
	}
	return c, nil
}

func (c Ciphertext) check() error {
	min, ok := minBody[c.Type]
	if !ok {
		return fmt.Errorf("unknown message type %d", uint8(c.Type))
	}
	if len(c.Body) < min || len(c.Body)+2 > MaxCiphertextSize {
		return fmt.Errorf("%s body of %d bytes", c.Type, len(c.Body))
	}
	if c.Body[0] != signalVersionByte {
		return fmt.Errorf("unsupported Signal message version")
	}
	return nil
}

// frameVersion starts the plaintext inside every 1:1 message.
const frameVersion = 1

// frame binds the sender's device address into the encrypted plaintext:
// version (1) | address length (1) | "<account>.<device>" | payload.
// Signal authenticates identity keys, not addresses; with the address
// inside, a message relayed as if it came from another device (by a
// faulty or hostile server) fails with ErrSenderMismatch even when the
// receiver has never seen that device's identity.
func frame(sender Address, payload []byte) []byte {
	s := sender.String()
	out := make([]byte, 0, 2+len(s)+len(payload))
	out = append(out, frameVersion, byte(len(s)))
	out = append(out, s...)
	return append(out, payload...)
}

func unframe(b []byte) (Address, []byte, error) {
	if len(b) < 2 || b[0] != frameVersion || len(b) < 2+int(b[1]) {
		return Address{}, nil, fmt.Errorf("%w: bad plaintext frame", ErrMalformed)
	}
	n := int(b[1])
	a, err := ParseAddress(string(b[2 : 2+n]))
	if err != nil {
		return Address{}, nil, err
	}
	return a, b[2+n:], nil
}
