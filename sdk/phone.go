package sdk

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"errors"
	mrand "math/rand/v2"
	"strings"
	"time"
)

// AccountID returns the account id (E.164 digits without +) of a phone
// number written with or without +, spaces, dashes, dots or parentheses.
// Like the server, it wants 8 to 15 digits, the first not 0.
func AccountID(phone string) (string, error) {
	s := strings.TrimPrefix(strings.TrimSpace(phone), "+")
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", errors.New("phone number may contain only digits after the +")
		}
	}
	d := b.String()
	if len(d) < 8 || len(d) > 15 || d[0] == '0' {
		return "", errors.New("phone number must have 8 to 15 digits, the first not 0 (E.164)")
	}
	return d, nil
}

// digits is AccountID without validation, for paths and frames: the server
// validates and answers with a proper error.
func digits(phone string) string {
	if d, err := AccountID(phone); err == nil {
		return d
	}
	return strings.TrimPrefix(strings.TrimSpace(phone), "+")
}

// e164 puts the + in front that the registration endpoints want.
func e164(phone string) string {
	p := strings.TrimSpace(phone)
	if strings.HasPrefix(p, "+") {
		return p
	}
	return "+" + p
}

// NewLinkCode returns a random link code (32 base32 characters, 160 bits)
// for LinkWait.
func NewLinkCode() string {
	b := make([]byte, 20)
	rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)
}

// NewClientID returns a fresh client id for a send, as Send and
// SendGroup make them: "c-", the time in milliseconds (12 hex digits,
// so that they sort as they were made) and 64 random bits. A device's
// client ids thus grow with time, and the server's idempotency keys of
// one device are added at one end of its index: random ids scatter them
// over the index's pages, which made a saturated node a quarter to a
// third slower (docs/BENCHMARKS.md). Client ids need no secrecy; they
// are unique per sending device.
func NewClientID() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], uint64(time.Now().UnixMilli())<<16) // the time in b[0:6]
	binary.BigEndian.PutUint64(b[6:14], mrand.Uint64())
	var out [2 + 2*14]byte
	copy(out[:], "c-")
	hex.Encode(out[2:], b[:14])
	return string(out[:])
}

// newID returns a random request id with the given prefix.
func newID(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
