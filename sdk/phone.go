package sdk

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"strings"
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

// newID returns a random request or client id with the given prefix.
func newID(prefix string) string {
	b := make([]byte, 12)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
