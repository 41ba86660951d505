// Package crypto is the one place where Parley's end-to-end encryption
// keys live: the Signal protocol (X3DH, Double Ratchet, sender keys) on
// top of go.mau.fi/libsignal, safety numbers, and attachment encryption.
// It runs on clients only (the Go SDK, the CLI, and the browser through
// GOOS=js GOARCH=wasm); the server never imports it and only routes the
// ciphertexts it produces.
//
// SECURITY REVIEW REQUIRED. This package handles private keys and every
// message's plaintext. Changes need review by someone who knows the
// Signal protocol; see "Known limits" below for what a reviewer should
// look at first.
//
// # Model
//
// Every device (not every account) has its own identity key pair, as in
// WhatsApp's multi-device design: a sender encrypts each message once per
// recipient device and once per own other device, and the server stores
// one opaque ciphertext per device (docs/protocol.md, `copies`). A device
// is an Address (account, device number); sessions, identities and
// sender keys are kept per Address, in maps keyed by Address.String()
// ("<account>.<device>").
//
//   - Device holds all key material behind operations. Nothing exported
//     returns private key bytes; Marshal is the only way the state leaves,
//     as one opaque blob for storage.
//   - Keys for the server: Upload (identity key, signed prekey with its
//     signature, one-time prekeys), GenerateOneTimePreKeys to replenish,
//     RotateSignedPreKey. A sender gets a Bundle per device from the server
//     (through a BundleSource) when it has no session.
//   - 1:1: Encrypt starts a session from a bundle when needed, then
//     ratchets; Decrypt handles PreKey and Whisper messages. Inside every
//     1:1 plaintext the sender's device address is bound (see Wire formats), so
//     a message relayed as coming from another device fails.
//   - Groups: sender keys. GroupKey/RotateGroupKey produce a distribution
//     that the caller sends to each member device over 1:1 sessions;
//     ProcessGroupKey stores a received one; GroupEncrypt encrypts once for
//     all members, GroupDecrypt decrypts per sender. Membership lives on
//     the server. When someone leaves, every remaining member rotates its
//     sender key, distributes it to the remaining members only, and drops
//     the leaver's key (ForgetGroupMember).
//   - Verification: trust on first use per device. A later different
//     identity key for the same device (Encrypt with a new bundle, Decrypt
//     of a PreKey message) returns *IdentityChangedError carrying the new
//     key and safety number and changes nothing; the application shows a
//     notice and calls AcceptIdentity (automatically, as WhatsApp does, or
//     after the user compared safety numbers). Safety numbers are Signal's
//     60-digit numeric fingerprints with a QR payload (NewSafetyNumber,
//     SafetyNumber.VerifyQR).
//   - Recovery: a device that lost its state gets ErrNoSession (or
//     ErrAuthFailed) when decrypting; it asks the sender (outside this
//     package: a retry receipt) to call ResetSession and send again, which
//     starts a new session with a PreKey message.
//   - Attachments: SealAttachment/OpenAttachment, AES-256-GCM with a fresh
//     key per file and a SHA-256 digest of the blob.
//
// # What is stored where
//
//   - In the Device (memory), and in Marshal's output: the identity key
//     pair, registration id, signed prekeys (current and recently retired,
//     with private keys), unused one-time prekeys (with private keys),
//     session records (root, chain and skipped message keys), peers'
//     identity public keys, and sender key records (own with the private
//     signing key; others' with public signing keys). The SDK writes this
//     blob to the profile directory with mode 0600; the browser keeps it
//     in IndexedDB. It is not encrypted at rest by this package.
//   - On the server: only public keys (Upload, Bundle) and ciphertexts.
//   - In messages: Ciphertext (1:1 and group), sender key distributions
//     (inside 1:1 messages), attachment keys and digests (inside messages).
//   - A new device has new keys; nothing here lets the server restore
//     history.
//
// # Wire formats
//
//   - Ciphertext: version (1) | type (2 Whisper, 3 PreKey, 4 SenderKey) |
//     libsignal message bytes. At most MaxCiphertextSize.
//   - 1:1 plaintext frame (inside the encryption): version (1) | length |
//     sender "<account>.<device>" | payload.
//   - Sender key distribution: version (1) | group id length | group id |
//     libsignal SenderKeyDistributionMessage.
//   - Bundle and Upload: JSON with base64 byte fields.
//   - Attachment blob: version (1) | 12-byte nonce | AES-256-GCM output.
//   - Marshal: versioned JSON (see persist.go).
//
// # Operations and concurrency
//
// A Device is safe for concurrent use; operations are serialized by one
// mutex (Encrypt releases it while fetching a bundle). Every operation is
// a transaction: libsignal works on decoded copies of the records it
// needs and the changes are written back only when the whole operation
// succeeded, because libsignal mutates session state before it verifies
// a message's MAC. Crafted input never panics out of this package: calls
// into libsignal are guarded and their panics become ErrMalformed.
//
// Where go.mau.fi/libsignal v0.2.1 is wrong, this package works around it
// instead of calling it (each place says why): prekeys are stored in our
// own format (its record decoder corrupts public keys), Decrypt tries
// archived session states on copies (ratchet.go; its own code archives a
// state corrupted by a failed attempt, which breaks sessions after
// simultaneous starts or resets), sender key records are never returned
// nil, a second copy of a sender key distribution is ignored (it would
// rewind the chain and allow replays), and its stdout logger is replaced.
//
// Logging: importing the package silences libsignal's stdout logger;
// SetLogger routes its (content-free) messages to slog at Debug level.
// Its debug output, which contains key material, is always dropped.
//
// # Known limits
//
//   - Signal protocol version 3 only (Curve25519, AES-CBC + HMAC-SHA256):
//     no PQXDH, no post-quantum ratchet.
//   - libsignal verifies MACs and signatures over a re-serialization of
//     the parsed protobuf, not over the received bytes, and a PreKey
//     message's registration id is not authenticated at all: some altered
//     encodings of a message decrypt (to the same content, once; counters
//     still reject replays). Do not use ciphertext bytes as message ids.
//   - A replay of a message whose receiving chain is gone (libsignal keeps
//     five) fails as ErrAuthFailed rather than ErrDuplicate.
//   - A peer with a session can make this device store up to 2000 skipped
//     message keys per chain (five chains, 40 archived states), all of
//     which are serialized on every message: a costly but bounded state.
//   - Safety numbers cover what the caller passes: Device.SafetyNumber is
//     per device pair; an account-wide number needs the identity keys of
//     all its devices from the caller.
//   - Attachments are sealed in one piece, in memory (no streaming).
//   - Marshal writes the whole state; with many sessions, storing it after
//     every message is costly. An incremental store is future work.
package crypto
