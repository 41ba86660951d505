package crypto_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/crypto"
)

func TestAttachmentRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, 15, 16, 17, 4096, 1 << 20} {
		plain := make([]byte, size)
		rand.Read(plain)
		blob, key, digest, err := crypto.SealAttachment(plain)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(blob, plain) && size > 16 {
			t.Fatalf("size %d: blob contains the plaintext", size)
		}
		got, err := crypto.OpenAttachment(blob, key, digest)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("size %d: round trip differs", size)
		}
	}
	_, k1, _, _ := crypto.SealAttachment([]byte("a"))
	_, k2, _, _ := crypto.SealAttachment([]byte("a"))
	if bytes.Equal(k1, k2) {
		t.Fatal("two attachments share a key")
	}
}

func TestAttachmentTamperRejected(t *testing.T) {
	plain := bytes.Repeat([]byte("document "), 1000)
	blob, key, digest, err := crypto.SealAttachment(plain)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int) []byte { c := bytes.Clone(b); c[i] ^= 1; return c }
	otherBlob, otherKey, otherDigest, _ := crypto.SealAttachment(plain)
	tests := []struct {
		name              string
		blob, key, digest []byte
		kind              error
	}{
		{"flipped_version", flip(blob, 0), key, digest, crypto.ErrAuthFailed},
		{"flipped_nonce", flip(blob, 5), key, digest, crypto.ErrAuthFailed},
		{"flipped_body", flip(blob, len(blob)/2), key, digest, crypto.ErrAuthFailed},
		{"flipped_tag", flip(blob, len(blob)-1), key, digest, crypto.ErrAuthFailed},
		{"truncated", blob[:len(blob)-1], key, digest, crypto.ErrAuthFailed},
		{"wrong_key", blob, otherKey, digest, crypto.ErrAuthFailed},
		{"wrong_digest", blob, key, otherDigest, crypto.ErrAuthFailed},
		{"other_blob", otherBlob, key, otherDigest, crypto.ErrAuthFailed},
		{"blob_digest_matches_but_body_altered", flip(blob, 20), key, sha(flip(blob, 20)), crypto.ErrAuthFailed},
		{"short_key", blob, key[:16], digest, crypto.ErrMalformed},
		{"empty", nil, key, sha(nil), crypto.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := crypto.OpenAttachment(tt.blob, tt.key, tt.digest)
			if !errors.Is(err, tt.kind) || got != nil {
				t.Fatalf("OpenAttachment = %d bytes, %v; want kind %v", len(got), err, tt.kind)
			}
		})
	}
}

// The server's size limits for media add parley.MediaOverhead to the
// plaintext limits; it must be what SealAttachment adds.
func TestAttachmentOverheadMatchesServerLimits(t *testing.T) {
	for _, size := range []int{0, 1, 1000} {
		blob, _, _, err := crypto.SealAttachment(make([]byte, size))
		if err != nil {
			t.Fatal(err)
		}
		if got := len(blob) - size; got != parley.MediaOverhead {
			t.Errorf("SealAttachment adds %d bytes, parley.MediaOverhead is %d", got, parley.MediaOverhead)
		}
	}
}
