package sdk

import (
	"encoding/json"
	"errors"
	"math"

	"github.com/parley-chat/parley/internal/jsonscan"
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
	if err := decodeFrame(b, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// decodeFrame decodes b into f, which it overwrites whole.
func decodeFrame(b []byte, f *Frame) error {
	*f = Frame{}
	if !fastDecodeFrame(b, f) {
		*f = Frame{}
		if err := json.Unmarshal(b, f); err != nil {
			return err
		}
	}
	if f.Type == "" {
		return errNoType
	}
	return nil
}

// fastDecodeFrame decodes the frames a server usually sends (item, sent,
// receipts, presence, typing, errors without a device map) by hand, as
// json.Unmarshal would: an object whose keys are Frame's own names, each
// once, with plain values (see package jsonscan). It reports false for
// anything else, and f may then hold part of the frame. Reading server
// frames with encoding/json was a quarter of a busy client's CPU (the
// benchmark's load generator); a fuzz test checks that what this accepts,
// json.Unmarshal decodes to the same frame.
func fastDecodeFrame(b []byte, f *Frame) bool {
	d := jsonscan.New(b)
	var seen uint64
	ok := d.Object(func(key []byte) bool {
		k := frameKey(key)
		if k < 0 || seen&(1<<k) != 0 {
			return false
		}
		seen |= 1 << k
		var ok bool
		switch k {
		case fType:
			f.Type, ok = str(&d, frameTypes)
		case fID:
			f.ID, ok = d.Str()
		case fToken:
			f.Token, ok = d.Str()
		case fVersion:
			var n uint64
			n, ok = d.Uint(math.MaxInt32) // int is 32 bits on some platforms
			f.Version = int(n)
		case fNode:
			f.Node, ok = d.Str()
		case fServerTime:
			f.ServerTime, ok = d.Int64()
		case fTo:
			f.To, ok = d.Str()
		case fGroup:
			f.Group, ok = d.Str()
		case fMedia:
			f.Media, ok = d.Strs()
		case fExpiresIn:
			f.ExpiresIn, ok = d.Int64()
		case fMessageID:
			f.MessageID, ok = d.Str()
		case fMessageIDs:
			f.MessageIDs, ok = d.Strs()
		case fTimestamp:
			f.Timestamp, ok = d.Int64()
		case fDuplicate:
			f.Duplicate, ok = d.Bool()
		case fSeq:
			f.Seq, ok = d.Uint(math.MaxUint64)
		case fKind:
			f.Kind, ok = str(&d, itemKinds)
		case fClientID:
			f.ClientID, ok = d.Str()
		case fFrom:
			f.From, ok = d.Str()
		case fFromDevice:
			f.FromDevice, ok = d.Uint32()
		case fBody:
			f.Body, ok = d.Base64()
		case fSeqs:
			f.Seqs, ok = d.Uints()
		case fState:
			f.State, ok = d.Str()
		case fAccount:
			f.Account, ok = d.Str()
		case fDevice:
			f.Device, ok = d.Uint32()
		case fAccounts:
			f.Accounts, ok = d.Strs()
		case fOnline:
			f.Online, ok = d.Bool()
		case fLastSeen:
			f.LastSeen, ok = d.Int64()
		case fHidden:
			f.Hidden, ok = d.Bool()
		case fCode:
			f.Code, ok = d.Str()
		case fMessage:
			f.Message, ok = d.Str()
		}
		return ok
	})
	return ok && d.End()
}

const (
	fType = iota
	fID
	fToken
	fVersion
	fNode
	fServerTime
	fTo
	fGroup
	fMedia
	fExpiresIn
	fMessageID
	fMessageIDs
	fTimestamp
	fDuplicate
	fSeq
	fKind
	fClientID
	fFrom
	fFromDevice
	fBody
	fSeqs
	fState
	fAccount
	fDevice
	fAccounts
	fOnline
	fLastSeen
	fHidden
	fCode
	fMessage
)

// frameKey returns the index of one of Frame's JSON names (its struct
// tags) but copies and devices, which are encoding/json's to decode; -1
// for any other key. A switch finds it faster than a map.
func frameKey(key []byte) int {
	switch string(key) {
	case "type":
		return fType
	case "id":
		return fID
	case "token":
		return fToken
	case "version":
		return fVersion
	case "node":
		return fNode
	case "server_time":
		return fServerTime
	case "to":
		return fTo
	case "group":
		return fGroup
	case "media":
		return fMedia
	case "expires_in":
		return fExpiresIn
	case "message_id":
		return fMessageID
	case "message_ids":
		return fMessageIDs
	case "timestamp":
		return fTimestamp
	case "duplicate":
		return fDuplicate
	case "seq":
		return fSeq
	case "kind":
		return fKind
	case "client_id":
		return fClientID
	case "from":
		return fFrom
	case "from_device":
		return fFromDevice
	case "body":
		return fBody
	case "seqs":
		return fSeqs
	case "state":
		return fState
	case "account":
		return fAccount
	case "device":
		return fDevice
	case "accounts":
		return fAccounts
	case "online":
		return fOnline
	case "last_seen":
		return fLastSeen
	case "hidden":
		return fHidden
	case "code":
		return fCode
	case "message":
		return fMessage
	}
	return -1
}

// frameTypes and itemKinds are the values of type and kind that servers
// send, which str returns without allocating a string each time.
var (
	frameTypes = []string{"item", "sent", "ok", "pong", "presence", "typing", "error", "ready", "devices", "keys_low"}
	itemKinds  = []string{"msg", "delivered", "read", "group", "retry"}
)

// str reads a string, one of common's when it is one of them.
func str(d *jsonscan.Decoder, common []string) (string, bool) {
	b, ok := d.Raw()
	if !ok {
		return "", false
	}
	for _, s := range common {
		if string(b) == s {
			return s, true
		}
	}
	return string(b), true
}
