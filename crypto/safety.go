package crypto

import (
	"bytes"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"go.mau.fi/libsignal/serialize"
	"google.golang.org/protobuf/proto"
)

// Safety numbers follow Signal's NumericFingerprintGenerator (version 0
// hashing, 5200 iterations): for each side,
//
//	h = uint16be(0) || keys || id;  repeat 5200 times: h = SHA-512(h || keys)
//
// where keys is the concatenation of the side's identity keys (33 bytes
// each, sorted) and id is "+" and the account, the E.164 form Signal used
// as stable identifier. The first 30 bytes
// give 30 digits (six 5-byte big-endian chunks, each mod 100000, as five
// digits); the two sides' 30 digits are concatenated, smaller first, so
// both ends show the same 60 digits. The QR payload is Signal's
// CombinedFingerprints protobuf (version 1) with the first 32 bytes of
// each side's hash; a scan matches when the scanned local part equals our
// remote part and vice versa.
const (
	safetyIterations = 5200
	safetyQRVersion  = 1
	maxSafetyQRSize  = 256
)

// Party is one side of a safety number: an account (E.164 digits without
// "+", as in the protocol) and the identity keys
// of the devices it covers (one for a device pair; every device of the
// account to cover the whole account, as the order does not matter).
type Party struct {
	Account string
	Keys    []IdentityKey
}

// SafetyNumber is what two people compare to verify each other's keys.
type SafetyNumber struct {
	// Digits are the 60 digits, the same on both sides.
	Digits string
	// QR is the payload to show as a QR code; the other side scans it and
	// calls VerifyQR. It differs per side (local and remote swapped).
	QR []byte
}

// String groups the digits in twelve blocks of five.
func (s SafetyNumber) String() string {
	var b strings.Builder
	for i := 0; i+5 <= len(s.Digits); i += 5 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s.Digits[i : i+5])
	}
	return b.String()
}

// NewSafetyNumber computes the safety number of local (this user) and
// remote.
func NewSafetyNumber(local, remote Party) (SafetyNumber, error) {
	lh, err := fingerprintHash(local)
	if err != nil {
		return SafetyNumber{}, err
	}
	rh, err := fingerprintHash(remote)
	if err != nil {
		return SafetyNumber{}, err
	}
	ld, rd := displayDigits(lh), displayDigits(rh)
	digits := ld + rd
	if rd < ld {
		digits = rd + ld
	}
	qr, err := proto.Marshal(&serialize.CombinedFingerprints{
		Version:           proto.Uint32(safetyQRVersion),
		LocalFingerprint:  &serialize.LogicalFingerprint{Content: lh[:32]},
		RemoteFingerprint: &serialize.LogicalFingerprint{Content: rh[:32]},
	})
	if err != nil {
		return SafetyNumber{}, fmt.Errorf("crypto.NewSafetyNumber: %w", err)
	}
	return SafetyNumber{Digits: digits, QR: qr}, nil
}

func fingerprintHash(p Party) ([]byte, error) {
	if p.Account == "" || len(p.Keys) == 0 {
		return nil, newError("crypto.NewSafetyNumber", Address{}, ErrMalformed, fmt.Errorf("a party needs an account and at least one key"))
	}
	keys := slices.Clone(p.Keys)
	slices.SortFunc(keys, func(a, b IdentityKey) int { return bytes.Compare(a[:], b[:]) })
	var pub []byte
	for _, k := range keys {
		if err := checkPublicKey(k[:]); err != nil {
			return nil, newError("crypto.NewSafetyNumber", Address{}, ErrMalformed, err)
		}
		pub = append(pub, k[:]...)
	}
	h := binary.BigEndian.AppendUint16(nil, 0)
	h = append(h, pub...)
	h = append(h, '+')
	h = append(h, p.Account...)
	d := sha512.New()
	for range safetyIterations {
		d.Reset()
		d.Write(h)
		d.Write(pub)
		h = d.Sum(h[:0])
	}
	return h, nil
}

func displayDigits(h []byte) string {
	var b strings.Builder
	for off := 0; off < 30; off += 5 {
		v := uint64(h[off])<<32 | uint64(h[off+1])<<24 | uint64(h[off+2])<<16 | uint64(h[off+3])<<8 | uint64(h[off+4])
		fmt.Fprintf(&b, "%05d", v%100000)
	}
	return b.String()
}

// VerifyQR checks a payload scanned from the other person's screen. It
// returns nil when it matches this safety number, ErrSafetyNumberMismatch
// when it does not, and ErrMalformed when it is not a safety number QR.
func (s SafetyNumber) VerifyQR(scanned []byte) error {
	const op = "crypto.SafetyNumber.VerifyQR"
	ours, err := parseQR(s.QR)
	if err != nil {
		return newError(op, Address{}, ErrMalformed, fmt.Errorf("own payload: %w", err))
	}
	theirs, err := parseQR(scanned)
	if err != nil {
		return newError(op, Address{}, ErrMalformed, err)
	}
	if ours.GetVersion() != theirs.GetVersion() {
		return newError(op, Address{}, ErrSafetyNumberMismatch, fmt.Errorf("version %d, want %d", theirs.GetVersion(), ours.GetVersion()))
	}
	a := subtle.ConstantTimeCompare(theirs.GetLocalFingerprint().GetContent(), ours.GetRemoteFingerprint().GetContent())
	b := subtle.ConstantTimeCompare(theirs.GetRemoteFingerprint().GetContent(), ours.GetLocalFingerprint().GetContent())
	if a&b != 1 {
		return newError(op, Address{}, ErrSafetyNumberMismatch, nil)
	}
	return nil
}

func parseQR(b []byte) (*serialize.CombinedFingerprints, error) {
	if len(b) > maxSafetyQRSize {
		return nil, fmt.Errorf("%w: QR payload too large", ErrMalformed)
	}
	var c serialize.CombinedFingerprints
	if err := proto.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%w: QR payload: %v", ErrMalformed, err)
	}
	if len(c.GetLocalFingerprint().GetContent()) != 32 || len(c.GetRemoteFingerprint().GetContent()) != 32 {
		return nil, fmt.Errorf("%w: QR payload without two 32-byte fingerprints", ErrMalformed)
	}
	return &c, nil
}

// SafetyNumber returns the safety number of this device's identity and
// the stored identity of a peer device. For a whole account, collect the
// identity keys of its devices (PeerIdentity) and use NewSafetyNumber.
func (d *Device) SafetyNumber(peer Address) (SafetyNumber, error) {
	k, err := d.PeerIdentity(peer)
	if err != nil {
		return SafetyNumber{}, err
	}
	return NewSafetyNumber(
		Party{Account: d.self.Account, Keys: []IdentityKey{d.IdentityKey()}},
		Party{Account: peer.Account, Keys: []IdentityKey{k}})
}
