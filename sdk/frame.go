package sdk

import (
	"encoding/json"
	"errors"
)

// Frame is any frame of the WebSocket protocol in either direction; Type
// selects which fields count (docs/protocol.md). Unknown types and fields
// are ignored, as the protocol asks of clients.
type Frame struct {
	Type string `json:"type"`
	ID   string `json:"id,omitempty"` // request id; echoed in the answer

	Token string `json:"token,omitempty"` // auth

	// ready
	Version    int    `json:"version,omitempty"`
	Node       string `json:"node,omitempty"`
	ServerTime int64  `json:"server_time,omitempty"` // unix ms

	// send, read, typing; item: the conversation partner the sender addressed
	To     string `json:"to,omitempty"`
	Copies []Copy `json:"copies,omitempty"`
	Group  string `json:"group,omitempty"` // send, item: a group message, its receipt or a group event

	// send: the blobs the message names; send, item: seconds until the
	// message disappears (0: never)
	Media     []string `json:"media,omitempty"`
	ExpiresIn int64    `json:"expires_in,omitempty"`

	// sent, item, read
	MessageID  string   `json:"message_id,omitempty"`
	MessageIDs []string `json:"message_ids,omitempty"`
	Timestamp  int64    `json:"timestamp,omitempty"` // unix ms
	Duplicate  bool     `json:"duplicate,omitempty"`

	// item
	Seq        uint64 `json:"seq,omitempty"`
	Kind       string `json:"kind,omitempty"` // msg, delivered, read
	ClientID   string `json:"client_id,omitempty"`
	From       string `json:"from,omitempty"`
	FromDevice uint32 `json:"from_device,omitempty"`
	Body       []byte `json:"body,omitempty"` // base64 in JSON; send: the body of copies without one

	Seqs []uint64 `json:"seqs,omitempty"` // ack

	State string `json:"state,omitempty"` // typing

	// presence, ready, devices
	Account  string   `json:"account,omitempty"`
	Device   uint32   `json:"device,omitempty"`
	Accounts []string `json:"accounts,omitempty"`
	Online   bool     `json:"online,omitempty"`
	LastSeen int64    `json:"last_seen,omitempty"` // unix ms
	Hidden   bool     `json:"hidden,omitempty"`

	// error
	Code    string              `json:"code,omitempty"`
	Message string              `json:"message,omitempty"`
	Devices map[string][]uint32 `json:"devices,omitempty"`
}

// Copy is the ciphertext of one message for one device.
type Copy struct {
	Account string `json:"account"`
	Device  uint32 `json:"device"`
	Body    []byte `json:"body,omitempty"` // empty: the send frame's Body (group sends)
}

// Err returns the *Error of an error frame, nil for other frames.
func (f *Frame) Err() error {
	if f.Type != "error" {
		return nil
	}
	return &Error{Code: f.Code, Message: f.Message, Devices: f.Devices}
}

var errNoType = errors.New("frame has no type")

// DecodeFrame decodes one text frame.
func DecodeFrame(b []byte) (*Frame, error) {
	var f Frame
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Type == "" {
		return nil, errNoType
	}
	return &f, nil
}
