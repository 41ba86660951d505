package sdk

import (
	"context"
	"encoding/json"
	"errors"
)

// Cipher turns a message's plaintext into the body of one device's copy
// and back. Implementations hold key material and must keep it behind
// this interface. SignalCipher is the end-to-end encrypted one; it also
// implements the optional methods the Messenger looks for:
//
//   - Save() error: persist state; called after a send's copies are
//     sealed (before the send leaves) and after a message is opened
//     (before the application sees it).
//   - MaintainKeys(ctx) error: publish and replenish keys; called after
//     every connect and on keys_low.
//   - ResetSession(ctx, account, device) error: start over with a device
//     that asked for a resend.
//   - Handled(messageID string): the application acknowledged the
//     message; its plaintext need not be kept for a redelivery any more.
type Cipher interface {
	// Seal returns the body for device `device` of `account`. ErrNoKeys
	// means the device cannot be encrypted to yet and gets no copy.
	Seal(ctx context.Context, account string, device uint32, plaintext []byte) ([]byte, error)
	// Open returns the plaintext of message messageID, whose body was
	// sent by fromDevice of fromAccount. The server delivers a message
	// again when the process ended before the application acknowledged
	// it; Open must then return the same plaintext (a ratchet consumes
	// each message key once, so a stateful Cipher keeps the plaintext
	// until Handled).
	Open(ctx context.Context, messageID, fromAccount string, fromDevice uint32, body []byte) ([]byte, error)
}

// The optional Cipher methods (see Cipher).
type (
	cipherSaver   interface{ Save() error }
	keyMaintainer interface {
		MaintainKeys(ctx context.Context) error
	}
	sessionResetter interface {
		ResetSession(ctx context.Context, account string, device uint32) error
	}
	handledNotifier interface{ Handled(messageID string) }
	groupOpener     interface {
		OpenGroup(ctx context.Context, messageID, group, fromAccount string, fromDevice uint32, body []byte) ([]byte, error)
	}
)

// PlainCipher does not encrypt: bodies are the plaintext, so the server
// and anyone with access to its database can read every message. It
// exists for load generators and protocol tests; applications use
// SignalCipher.
type PlainCipher struct{}

var _ Cipher = PlainCipher{}

// Seal returns plaintext unchanged.
func (PlainCipher) Seal(_ context.Context, _ string, _ uint32, plaintext []byte) ([]byte, error) {
	return plaintext, nil
}

// Open returns body unchanged.
func (PlainCipher) Open(_ context.Context, _, _ string, _ uint32, body []byte) ([]byte, error) {
	return body, nil
}

// Payload is the plaintext of a message: a JSON object with a type.
// Version 1 defines
//
//	{"type":"text","text":"…"}
//	{"type":"image"|"video"|"audio"|"document"|"sticker","media":{…Attachment…},"caption":"…"}
//	{"type":"timer","expires_in":<seconds, 0: off>}  (the chat's disappearing-message timer)
//
// Other types are passed through in Message.Raw.
type Payload struct {
	Type      string      `json:"type"`
	Text      string      `json:"text,omitempty"`
	Media     *Attachment `json:"media,omitempty"`
	Caption   string      `json:"caption,omitempty"`
	ExpiresIn *int64      `json:"expires_in,omitempty"` // timer
	Referral  *Referral   `json:"referral,omitempty"`   // how a business chat was started (referral.go)
}

// TextPayload returns the plaintext of a text message.
func TextPayload(text string) []byte {
	b, _ := json.Marshal(Payload{Type: "text", Text: text})
	return b
}

var errPayload = errors.New("message payload is not a JSON object with a type")

// DecodePayload decodes a message's plaintext.
func DecodePayload(b []byte) (*Payload, error) {
	var p Payload
	if err := json.Unmarshal(b, &p); err != nil || p.Type == "" {
		return nil, errPayload
	}
	return &p, nil
}
