package crypto_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/parley-chat/parley/crypto"
)

// Messages that make libsignal v0.2.1 index past the end of a slice: a
// present but empty key field (it checks only for nil before reading the
// key type byte). They must fail cleanly.
func TestCraftedMessagesDoNotPanic(t *testing.T) {
	ctx := context.Background()
	dir := newDirectory()
	alice := newDevice(t, dir, "alice", 1)
	bob := newDevice(t, dir, "bob", 1)
	roundTrip(t, alice, bob, "x")
	roundTrip(t, bob, alice, "y")
	ik := alice.IdentityKey().Bytes()

	whisperEmptyRatchetKey := append([]byte{0x33, 0x0a, 0x00, 0x10, 0x01, 0x22, 0x01, 'x'}, bytes.Repeat([]byte{0}, 8)...)
	inner := whisperEmptyRatchetKey
	prekeyEmptyBaseKey := append([]byte{0x33, 0x12, 0x00, 0x1a, byte(len(ik))}, ik...)
	prekeyEmptyBaseKey = append(append(prekeyEmptyBaseKey, 0x22, byte(len(inner))), inner...)
	tests := []struct {
		name string
		ct   crypto.Ciphertext
	}{
		{"whisper_empty_ratchet_key", crypto.Ciphertext{Type: crypto.TypeWhisper, Body: whisperEmptyRatchetKey}},
		{"prekey_empty_base_key", crypto.Ciphertext{Type: crypto.TypePreKey, Body: prekeyEmptyBaseKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := bob.Decrypt(ctx, alice.Address(), tt.ct)
			if !errors.Is(err, crypto.ErrMalformed) {
				t.Fatalf("Decrypt = %v, want ErrMalformed", err)
			}
			t.Logf("%v (libsignal panic recovered: %v)", err, strings.Contains(err.Error(), "panicked"))
		})
	}
	roundTrip(t, alice, bob, "session intact")
}
