package service

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
)

// Device tokens have the form "<account>.<device>.<secret>". The account
// and device select the row; the secret is compared in constant time with
// the SHA-256 hash stored there. The server never stores the secret.

func newSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

func formatToken(account string, device uint32, secret string) string {
	return account + "." + strconv.FormatUint(uint64(device), 10) + "." + secret
}

func parseToken(token string) (account string, device uint32, secret string, err error) {
	a, rest, ok1 := strings.Cut(token, ".")
	d, s, ok2 := strings.Cut(rest, ".")
	id, perr := strconv.ParseUint(d, 10, 32)
	if !ok1 || !ok2 || perr != nil || !parley.ValidAccountID(a) || len(s) < 16 {
		return "", 0, "", parley.Errorf(parley.EUNAUTHORIZED, "malformed token")
	}
	return a, uint32(id), s, nil
}

func tokenMatches(d *parley.Device, secret string) bool {
	return subtle.ConstantTimeCompare(d.TokenHash, hashSecret(secret)) == 1
}

// NewMessageID returns a server message id: 48 bits of milliseconds and
// 80 random bits in hex, so ids sort by time and never collide in practice.
func NewMessageID(now time.Time) string {
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	rand.Read(b[6:])
	return hex.EncodeToString(b[:])
}
