package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
)

// Attachments (media, documents) are encrypted on the client with a
// fresh random key per file and uploaded as opaque blobs; the key and the
// digest travel inside the (end-to-end encrypted) message that refers to
// the blob.
//
// Cipher: AES-256-GCM with a random 96-bit nonce. One key encrypts one
// file only, so nonce reuse cannot happen. Blob layout:
//
//	version (1 byte, 1) | nonce (12 bytes) | ciphertext | GCM tag (16 bytes)
//
// The version byte is authenticated as additional data. The digest is
// SHA-256 over the whole blob, so a blob store (or the recipient, before
// decrypting) can check integrity without the key. GCM rather than
// Signal's AES-CBC + HMAC: one key, one primitive, and browsers can use
// WebCrypto's native AES-GCM for the same format (Go's AES in wasm runs at
// about 19 MB/s). The whole file is in memory; a chunked format for very
// large files is future work.
const (
	AttachmentKeySize    = 32
	AttachmentDigestSize = sha256.Size
	attachmentVersion    = 1
	attachmentOverhead   = 1 + 12 + 16
)

// SealAttachment encrypts one file under a new random key. It returns the
// blob to upload, the key and the blob's SHA-256 digest.
func SealAttachment(plaintext []byte) (blob, key, digest []byte, err error) {
	key = make([]byte, AttachmentKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, nil, fmt.Errorf("crypto.SealAttachment: %w", err)
	}
	aead, err := attachmentAEAD(key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("crypto.SealAttachment: %w", err)
	}
	blob = make([]byte, 1+aead.NonceSize(), attachmentOverhead+len(plaintext))
	blob[0] = attachmentVersion
	if _, err := rand.Read(blob[1:]); err != nil {
		return nil, nil, nil, fmt.Errorf("crypto.SealAttachment: %w", err)
	}
	blob = aead.Seal(blob, blob[1:], plaintext, blob[:1])
	sum := sha256.Sum256(blob)
	return blob, key, sum[:], nil
}

// OpenAttachment checks the blob against its digest and decrypts it.
// Tampering with the blob, the key or the digest yields ErrAuthFailed.
func OpenAttachment(blob, key, digest []byte) ([]byte, error) {
	const op = "crypto.OpenAttachment"
	if len(key) != AttachmentKeySize || len(digest) != AttachmentDigestSize {
		return nil, newError(op, Address{}, ErrMalformed, fmt.Errorf("key must be %d and digest %d bytes", AttachmentKeySize, AttachmentDigestSize))
	}
	sum := sha256.Sum256(blob)
	if subtle.ConstantTimeCompare(sum[:], digest) != 1 {
		return nil, newError(op, Address{}, ErrAuthFailed, fmt.Errorf("digest mismatch"))
	}
	if len(blob) < attachmentOverhead || blob[0] != attachmentVersion {
		return nil, newError(op, Address{}, ErrMalformed, fmt.Errorf("not an attachment blob"))
	}
	aead, err := attachmentAEAD(key)
	if err != nil {
		return nil, newError(op, Address{}, ErrMalformed, err)
	}
	n := 1 + aead.NonceSize()
	plain, err := aead.Open(nil, blob[1:n], blob[n:], blob[:1])
	if err != nil {
		return nil, newError(op, Address{}, ErrAuthFailed, err)
	}
	return plain, nil
}

func attachmentAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
