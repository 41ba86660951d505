package sdk

import (
	"encoding/json"
	"errors"
)

// Cipher turns a message's plaintext into the body of one device's copy
// and back. Implementations hold key material and must keep it behind
// this interface.
//
// SECURITY REVIEW: the only implementation today is PlainCipher, which does
// not encrypt. The Signal protocol implementation (issue: end-to-end
// encryption) replaces it without changes to the protocol or to callers.
type Cipher interface {
	// Seal returns the body for device `device` of `account`.
	Seal(account string, device uint32, plaintext []byte) ([]byte, error)
	// Open returns the plaintext of a body sent by fromDevice of fromAccount.
	Open(fromAccount string, fromDevice uint32, body []byte) ([]byte, error)
}

// PlainCipher is the placeholder Cipher: bodies are the plaintext, so the
// server and anyone with access to its database can read every message.
// It exists until the Signal protocol lands (issue: end-to-end encryption).
type PlainCipher struct{}

var _ Cipher = PlainCipher{}

// Seal returns plaintext unchanged.
func (PlainCipher) Seal(_ string, _ uint32, plaintext []byte) ([]byte, error) {
	return plaintext, nil
}

// Open returns body unchanged.
func (PlainCipher) Open(_ string, _ uint32, body []byte) ([]byte, error) { return body, nil }

// Payload is the plaintext of a message: a JSON object with a type.
// Version 1 defines {"type":"text","text":"…"}; other types are passed
// through in Message.Raw.
type Payload struct {
	Type string `json:"type"`
	Text string `json:"text,omitempty"`
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
