package crypto

import (
	"errors"
	"fmt"
	"strings"

	"go.mau.fi/libsignal/ecc"
	"go.mau.fi/libsignal/signalerror"
)

// Kinds of failure. Every error returned by this package matches exactly
// one of them with errors.Is, so that callers can decide what to do
// (drop, ask the peer to reset the session, warn the user) without parsing
// text. Messages never contain plaintext or key material.
var (
	// ErrMalformed: the input cannot be parsed (envelope, bundle,
	// distribution message, stored state) or breaks a size limit.
	ErrMalformed = errors.New("malformed input")
	// ErrBadSignature: a bundle's signed prekey is not signed by its
	// identity key.
	ErrBadSignature = errors.New("bad signed prekey signature")
	// ErrAuthFailed: a message or attachment failed authentication: it was
	// tampered with, or belongs to another session or sender.
	ErrAuthFailed = errors.New("message authentication failed")
	// ErrDuplicate: the message's counter was already used (a replay or a
	// redelivery). Safe to drop.
	ErrDuplicate = errors.New("duplicate message")
	// ErrNoSession: there is no session with the peer (lost state, or the
	// peer reset). The peer should be asked to start a new session.
	ErrNoSession = errors.New("no session")
	// ErrUnknownPreKey: a PreKey message names a one-time or signed prekey
	// this device no longer has (used, or rotated away).
	ErrUnknownPreKey = errors.New("unknown or used prekey")
	// ErrIdentityChanged: the peer's identity key differs from the one
	// stored. The error is an *IdentityChangedError.
	ErrIdentityChanged = errors.New("identity key changed")
	// ErrSenderMismatch: the message authenticates, but was sealed by
	// another device than the one it was delivered as coming from.
	ErrSenderMismatch = errors.New("sender does not match")
	// ErrNoSenderKey: no group sender key for this sender (or this key id):
	// the sender has not distributed it to this device, or rotated it.
	ErrNoSenderKey = errors.New("no sender key")
	// ErrNoIdentity: no identity key is known for the peer.
	ErrNoIdentity = errors.New("no identity key known")
	// ErrSafetyNumberMismatch: a scanned QR payload does not match.
	ErrSafetyNumberMismatch = errors.New("safety numbers differ")
)

var kinds = []error{ErrMalformed, ErrBadSignature, ErrAuthFailed, ErrDuplicate, ErrNoSession,
	ErrUnknownPreKey, ErrIdentityChanged, ErrSenderMismatch, ErrNoSenderKey, ErrNoIdentity, ErrSafetyNumberMismatch}

// Error is a failure of one operation. Kind is one of the Err* values
// above; Err is the internal cause (often from libsignal), for logs.
type Error struct {
	Op   string  // e.g. "crypto.Decrypt"
	Peer Address // zero when the operation has no peer
	Kind error
	Err  error
}

func (e *Error) Error() string {
	s := e.Op
	if e.Peer != (Address{}) {
		s += " " + e.Peer.String()
	}
	kind := e.Kind.Error()
	switch {
	case e.Err == nil:
		s += ": " + kind
	case strings.HasPrefix(e.Err.Error(), kind):
		s += ": " + e.Err.Error() // the cause already names the kind
	default:
		s += ": " + kind + ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the kind and the cause, so errors.Is matches either.
func (e *Error) Unwrap() []error {
	if e.Err == nil {
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

func newError(op string, peer Address, kind, cause error) *Error {
	return &Error{Op: op, Peer: peer, Kind: kind, Err: cause}
}

// IdentityChangedError reports that a peer device presents a different
// identity key than the one stored for it: a reinstall, or someone (for
// instance the server) impersonating it. Nothing was changed; after
// AcceptIdentity(Peer, New) the same operation succeeds.
type IdentityChangedError struct {
	Peer         Address
	Old, New     IdentityKey
	SafetyNumber SafetyNumber // this device's identity with New
}

func (e *IdentityChangedError) Error() string {
	return "crypto: identity key of " + e.Peer.String() + " changed; compare the new safety number, then accept it"
}

// Is makes errors.Is(err, ErrIdentityChanged) true.
func (e *IdentityChangedError) Is(target error) bool { return target == ErrIdentityChanged }

// kindOf maps a libsignal error to a kind. def is used for errors that
// carry no recognisable sentinel.
func kindOf(err error, def error) error {
	for _, k := range kinds {
		if errors.Is(err, k) {
			return k
		}
	}
	switch {
	case errors.Is(err, signalerror.ErrOldCounter):
		return ErrDuplicate
	case errors.Is(err, signalerror.ErrBadMAC),
		errors.Is(err, signalerror.ErrNoValidSessions),
		errors.Is(err, signalerror.ErrSenderKeyStateVerificationFailed):
		return ErrAuthFailed
	case errors.Is(err, signalerror.ErrNoSessionForUser),
		errors.Is(err, signalerror.ErrUninitializedSession):
		return ErrNoSession
	case errors.Is(err, signalerror.ErrNoOneTimeKeyFound),
		errors.Is(err, signalerror.ErrNoSignedPreKey):
		return ErrUnknownPreKey
	case errors.Is(err, signalerror.ErrInvalidSignature):
		return ErrBadSignature
	case errors.Is(err, signalerror.ErrNoSenderKeyForUser),
		errors.Is(err, signalerror.ErrNoSenderKeyStateForID),
		errors.Is(err, signalerror.ErrNoSenderKeyStatesInRecord):
		return ErrNoSenderKey
	case errors.Is(err, signalerror.ErrUntrustedIdentity):
		return ErrIdentityChanged
	case errors.Is(err, signalerror.ErrTooFarIntoFuture),
		errors.Is(err, signalerror.ErrOldMessageVersion),
		errors.Is(err, signalerror.ErrUnknownMessageVersion),
		errors.Is(err, signalerror.ErrIncompleteMessage),
		errors.Is(err, signalerror.ErrWrongMessageVersion),
		errors.Is(err, ecc.ErrBadKeyType):
		return ErrMalformed
	}
	return def
}

// safely runs f and turns a panic into an error. libsignal indexes into
// network bytes without length checks in places (for example an empty key
// field in a protobuf message, or a ciphertext that is not a whole number
// of AES blocks from a malicious peer); a crafted message must never
// crash the client.
func safely(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: libsignal panicked: %v", ErrMalformed, r)
		}
	}()
	return f()
}
