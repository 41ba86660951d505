package service

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"time"
)

// TOTP (RFC 6238) with HMAC-SHA1, 30-second steps and 6 digits: what
// every authenticator app implements by default.

const (
	totpStep   = 30
	totpDigits = 6
)

// hotp is RFC 4226's HOTP value of counter, with digits digits.
func hotp(secret []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, code%mod)
}

// totpStepAt is the time step of t.
func totpStepAt(t time.Time) int64 { return t.Unix() / totpStep }

// totpCode is the code of secret at a time step.
func totpCode(secret []byte, step int64, digits int) string {
	return hotp(secret, uint64(step), digits)
}

// verifyTOTP checks code against the steps around now (one step of clock
// drift either way) and returns the step it matched, refusing steps at
// or before lastStep so that a code is used once.
func verifyTOTP(secret []byte, code string, now time.Time, lastStep int64) (int64, bool) {
	cur := totpStepAt(now)
	for _, st := range []int64{cur - 1, cur, cur + 1} {
		if st <= lastStep {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(totpCode(secret, st, totpDigits)), []byte(code)) == 1 {
			return st, true
		}
	}
	return 0, false
}

var totpBase32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// totpURL is the otpauth:// URL authenticator apps read from a QR code.
func totpURL(secret []byte, issuer, account string) string {
	v := url.Values{}
	v.Set("secret", totpBase32.EncodeToString(secret))
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", fmt.Sprint(totpDigits))
	v.Set("period", fmt.Sprint(totpStep))
	return "otpauth://totp/" + url.PathEscape(issuer+":"+account) + "?" + v.Encode()
}
