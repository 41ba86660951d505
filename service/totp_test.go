package service

import (
	"strings"
	"testing"
	"time"
)

// RFC 6238, Appendix B: the SHA-1 test vectors (8 digits).
func TestTOTPVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		if got := totpCode(secret, totpStepAt(time.Unix(tc.unix, 0)), 8); got != tc.want {
			t.Errorf("TOTP at %d = %s, want %s", tc.unix, got, tc.want)
		}
	}
}

// RFC 4226, Appendix D: HOTP values of counters 0 to 9 (6 digits).
func TestHOTPVectors(t *testing.T) {
	secret := []byte("12345678901234567890")
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := hotp(secret, uint64(i), 6); got != w {
			t.Errorf("HOTP(%d) = %s, want %s", i, got, w)
		}
	}
}

func TestVerifyTOTP(t *testing.T) {
	secret := []byte("12345678901234567890")
	now := time.Unix(1111111111, 0)
	cur := totpStepAt(now)
	for _, tc := range []struct {
		name string
		step int64
		last int64
		ok   bool
	}{
		{"current", cur, 0, true},
		{"previous", cur - 1, 0, true},
		{"next", cur + 1, 0, true},
		{"tooOld", cur - 2, 0, false},
		{"replayed", cur, cur, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, ok := verifyTOTP(secret, totpCode(secret, tc.step, 6), now, tc.last)
			if ok != tc.ok || (ok && st != tc.step) {
				t.Errorf("verify = %d, %v; want %v", st, ok, tc.ok)
			}
		})
	}
	if _, ok := verifyTOTP(secret, "000000", now, 0); ok && totpCode(secret, cur, 6) != "000000" {
		t.Error("a wrong code was accepted")
	}
	u := totpURL(secret, "Parley", "ann@example.com")
	if !strings.HasPrefix(u, "otpauth://totp/Parley:ann@example.com?") || !strings.Contains(u, "secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ") {
		t.Errorf("totpURL = %s", u)
	}
}
