package hosted

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// KeySealer is a Sealer with a 256-bit key: AES-256-GCM, a random nonce
// per seal, the nonce prepended. SECURITY REVIEW: it holds the at-rest
// key and never hands it out.
type KeySealer struct{ aead cipher.AEAD }

var _ Sealer = (*KeySealer)(nil)

// NewKeySealer returns a sealer for a 32-byte key.
func NewKeySealer(key []byte) (*KeySealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("the at-rest key must have 32 bytes, not %d", len(key))
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &KeySealer{aead: a}, nil
}

// Seal encrypts plaintext bound to aad.
func (s *KeySealer) Seal(plaintext, aad []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.aead.Seal(nonce, nonce, plaintext, aad), nil
}

// Open decrypts what Seal made with the same key and aad.
func (s *KeySealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, errors.New("sealed data too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], aad)
}
