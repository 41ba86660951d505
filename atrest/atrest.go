// Package atrest holds the node's at-rest key and seals secrets with it
// (AES-256-GCM): app secrets, which the server needs in clear to sign
// webhooks, and later the Signal state of hosted business devices. The
// database only ever holds sealed values; the key lives in a file of its
// own (DATA/at-rest-key by default, or a file the operator names), so a
// copy of the database alone reveals nothing.
//
// SECURITY REVIEW: the key file is the root of trust for every sealed
// secret. It is 32 random bytes, hex-encoded, mode 0600, generated on
// first start when none is configured (with a warning: operators should
// back it up separately from the database; losing it loses the sealed
// secrets, leaking it with a database dump leaks them). Rotation is not
// implemented yet: the sealed format carries a version byte so that a
// second key can be added. The Key never hands out its key bytes.
package atrest

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/parley-chat/parley"
)

// KeyFile is the name of the generated key file in the data dir.
const KeyFile = "at-rest-key"

// version is the first byte of every sealed value.
const version = 1

// Key seals and opens with one AES-256-GCM key.
type Key struct {
	aead cipher.AEAD
	mac  []byte // HMAC key of KeyedHash, derived from the key
}

var (
	_ parley.Sealer      = (*Key)(nil)
	_ parley.KeyedHasher = (*Key)(nil)
)

// New returns a Key for 32 bytes of key material. The caller should
// clear its copy.
func New(key []byte) (*Key, error) {
	if len(key) != 32 {
		return nil, errors.New("atrest: the key must be 32 bytes")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("atrest: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("atrest: %w", err)
	}
	d := hmac.New(sha256.New, key)
	d.Write([]byte("parley at-rest keyed hash v1"))
	return &Key{aead: aead, mac: d.Sum(nil)}, nil
}

// Load reads a key file: 64 hex digits (surrounding space ignored).
func Load(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("atrest: read key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	clear(b)
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("atrest: %s must hold 64 hex digits (32 bytes)", path)
	}
	defer clear(raw)
	return New(raw)
}

// LoadOrCreate loads DIR/at-rest-key, generating it (0600) when it does
// not exist yet and logging a warning that it did.
func LoadOrCreate(dir string, log *slog.Logger) (*Key, error) {
	path := filepath.Join(dir, KeyFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		raw := make([]byte, 32)
		rand.Read(raw)
		enc := []byte(hex.EncodeToString(raw) + "\n")
		clear(raw)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil && !errors.Is(err, os.ErrExist) { // ErrExist: another process just made it
			return nil, fmt.Errorf("atrest: create key: %w", err)
		}
		if err == nil {
			_, werr := f.Write(enc)
			if cerr := f.Close(); werr == nil {
				werr = cerr
			}
			if werr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("atrest: write key: %w", werr)
			}
			log.Warn("generated an at-rest key for app secrets and hosted devices; back it up apart from the database, or set --at-rest-key-file", "file", path)
		}
		clear(enc)
	} else if err != nil {
		return nil, fmt.Errorf("atrest: %w", err)
	}
	return Load(path)
}

// Seal encrypts plaintext bound to aad: version, 12-byte nonce, then the
// ciphertext with its tag.
func (k *Key) Seal(plaintext, aad []byte) ([]byte, error) {
	out := make([]byte, 1+k.aead.NonceSize(), 1+k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	out[0] = version
	rand.Read(out[1:])
	return k.aead.Seal(out, out[1:], plaintext, aad), nil
}

// Open decrypts what Seal made with the same key and aad.
func (k *Key) Open(sealed, aad []byte) ([]byte, error) {
	n := k.aead.NonceSize()
	if len(sealed) < 1+n+k.aead.Overhead() || sealed[0] != version {
		return nil, parley.Errorf(parley.EINTERNAL, "sealed value is malformed")
	}
	pt, err := k.aead.Open(nil, sealed[1:1+n], sealed[1+n:], aad)
	if err != nil {
		return nil, &parley.Error{Code: parley.EINTERNAL, Message: "sealed value does not open with this node's at-rest key", Err: err}
	}
	return pt, nil
}

// KeyedHash returns HMAC-SHA256 of msg under a key derived from the
// at-rest key, separated by purpose (the consent ledger's pseudonyms of
// phone numbers). It stays the same as long as the key file does.
func (k *Key) KeyedHash(purpose string, msg []byte) []byte {
	m := hmac.New(sha256.New, k.mac)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write(msg)
	return m.Sum(nil)
}
