package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// SignatureHeader is the header carrying the body's signature.
const SignatureHeader = "X-Hub-Signature-256"

// Sign returns the X-Hub-Signature-256 value for body: "sha256=" and the
// lowercase hex HMAC-SHA256 of exactly these bytes keyed with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	var out [7 + 2*sha256.Size]byte
	copy(out[:], "sha256=")
	hex.Encode(out[7:], m.Sum(nil))
	return string(out[:])
}

// Verify reports, in constant time, whether header is body's signature
// with secret (what a receiver does).
func Verify(secret, body []byte, header string) bool {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return false
	}
	want := Sign(secret, body)[7:]
	return hmac.Equal([]byte(got), []byte(want))
}
