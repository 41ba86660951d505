package gateway

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"github.com/parley-chat/parley/internal/jsonenc"
	"strconv"
	"time"

	"github.com/parley-chat/parley"
)

// ProtocolVersion is the version of the client protocol this server speaks.
const ProtocolVersion = 1

// Close codes of the client protocol (4000–4999 are application codes).
// Codes below 4100 tell the client not to reconnect with the same
// credentials; the others invite a reconnect.
const (
	CloseUnauthorized = 4001 // unknown credentials: register again
	CloseRevoked      = 4002 // this device was unlinked
	CloseExpired      = 4003 // credentials expired: register again
	CloseAuthTimeout  = 4004 // no auth frame in time, or another frame first
	CloseReplaced     = 4009 // the same device connected again elsewhere
	CloseServerError  = 4500 // a server fault; reconnect with backoff
)

// inFrame is any client-to-server frame; Type selects which fields count.
type inFrame struct {
	Type     string          `json:"type"`
	ID       string          `json:"id,omitempty"` // request id, echoed in the reply
	Token    string          `json:"token,omitempty"`
	To       string          `json:"to,omitempty"`
	Copies   []wireCopy      `json:"copies,omitempty"`
	Seqs     []uint64        `json:"seqs,omitempty"`
	IDs      []string        `json:"message_ids,omitempty"`
	State    string          `json:"state,omitempty"`
	Accounts []string        `json:"accounts,omitempty"`
	Device   uint32          `json:"device,omitempty"`     // retry: the device asked to resend
	Message  string          `json:"message_id,omitempty"` // retry
	ClientID string          `json:"client_id,omitempty"`  // retry, resend: the client id of the original send
	Group    string          `json:"group,omitempty"`      // send: a group send
	Body     []byte          `json:"body,omitempty"`       // send: the body of every copy that has none
	Extra    json.RawMessage `json:"-"`

	// send
	Media     []string `json:"media,omitempty"`      // blobs the message references
	ExpiresIn int64    `json:"expires_in,omitempty"` // seconds; disappearing message
}

type wireCopy struct {
	Account string `json:"account"`
	Device  uint32 `json:"device"`
	Body    []byte `json:"body"` // base64 in JSON; empty: the frame's body
}

// itemFrame is a mailbox item as sent to the client.
type itemFrame struct {
	Type       string `json:"type"` // "item"
	Seq        uint64 `json:"seq"`
	Kind       string `json:"kind"`
	MessageID  string `json:"message_id"`
	ClientID   string `json:"client_id,omitempty"`
	From       string `json:"from"`
	FromDevice uint32 `json:"from_device"`
	To         string `json:"to,omitempty"`
	Group      string `json:"group,omitempty"`
	Timestamp  int64  `json:"timestamp"` // unix milliseconds
	Body       []byte `json:"body,omitempty"`
	ExpiresIn  int64  `json:"expires_in,omitempty"` // seconds
}

// encodeItem writes an item frame by hand: every delivered item is
// encoded once, and this is several times faster than encoding/json while
// producing the same bytes (a test compares the two).
func encodeItem(it *parley.Item) []byte {
	return appendItem(make([]byte, 0, itemFrameCap(it)), it)
}

// itemFrameCap is the length of it's frame at most, unless strings need
// escapes: the keys, quotes and widest numbers take 214 bytes.
func itemFrameCap(it *parley.Item) int {
	return 214 + len(it.Kind) + len(it.MessageID) + len(it.ClientID) + len(it.From) + len(it.To) + len(it.Group) +
		base64.StdEncoding.EncodedLen(len(it.Body))
}

// appendItem appends it's frame (encodeItem) to b.
func appendItem(b []byte, it *parley.Item) []byte {
	b = append(b, `{"type":"item","seq":`...)
	b = strconv.AppendUint(b, it.Seq, 10)
	b = append(b, `,"kind":`...)
	b = jsonenc.AppendString(b, string(it.Kind))
	b = append(b, `,"message_id":`...)
	b = jsonenc.AppendString(b, it.MessageID)
	if it.ClientID != "" {
		b = append(b, `,"client_id":`...)
		b = jsonenc.AppendString(b, it.ClientID)
	}
	b = append(b, `,"from":`...)
	b = jsonenc.AppendString(b, it.From)
	b = append(b, `,"from_device":`...)
	b = strconv.AppendUint(b, uint64(it.FromDevice), 10)
	if it.To != "" {
		b = append(b, `,"to":`...)
		b = jsonenc.AppendString(b, it.To)
	}
	if it.Group != "" {
		b = append(b, `,"group":`...)
		b = jsonenc.AppendString(b, it.Group)
	}
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, it.Timestamp.UnixMilli(), 10)
	if len(it.Body) > 0 {
		b = append(b, `,"body":"`...)
		b = base64.StdEncoding.AppendEncode(b, it.Body)
		b = append(b, '"')
	}
	if sec := int64(it.ExpiresIn / time.Second); sec != 0 {
		b = append(b, `,"expires_in":`...)
		b = strconv.AppendInt(b, sec, 10)
	}
	return append(b, '}')
}

type readyFrame struct {
	Type       string `json:"type"` // "ready"
	Version    int    `json:"version"`
	Account    string `json:"account"`
	Device     uint32 `json:"device"`
	Node       string `json:"node"`
	ServerTime int64  `json:"server_time"`
}

type sentFrame struct {
	Type      string `json:"type"` // "sent"
	ID        string `json:"id"`
	MessageID string `json:"message_id"`
	Timestamp int64  `json:"timestamp"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// encode is json.Marshal(f), byte for byte, without reflection: one
// "sent" goes out per message.
func (f *sentFrame) encode() []byte {
	b := make([]byte, 0, 80+len(f.ID)+len(f.MessageID))
	b = append(b, `{"type":`...)
	b = jsonenc.AppendString(b, f.Type)
	b = append(b, `,"id":`...)
	b = jsonenc.AppendString(b, f.ID)
	b = append(b, `,"message_id":`...)
	b = jsonenc.AppendString(b, f.MessageID)
	b = append(b, `,"timestamp":`...)
	b = strconv.AppendInt(b, f.Timestamp, 10)
	if f.Duplicate {
		b = append(b, `,"duplicate":true`...)
	}
	return append(b, '}')
}

type okFrame struct {
	Type string `json:"type"` // "ok" or "pong"
	ID   string `json:"id,omitempty"`
}

type errorFrame struct {
	Type    string              `json:"type"` // "error"
	ID      string              `json:"id,omitempty"`
	Code    string              `json:"code"`
	Message string              `json:"message"`
	Devices map[string][]uint32 `json:"devices,omitempty"`
}

type typingFrame struct {
	Type       string `json:"type"` // "typing"
	From       string `json:"from"`
	FromDevice uint32 `json:"from_device"`
	State      string `json:"state"`
}

type presenceFrame struct {
	Type     string `json:"type"` // "presence"
	Account  string `json:"account"`
	Online   bool   `json:"online"`
	LastSeen int64  `json:"last_seen,omitempty"` // unix milliseconds; absent when hidden or unknown
	Hidden   bool   `json:"hidden,omitempty"`
}

type keysLowFrame struct {
	Type      string `json:"type"` // "keys_low"
	Remaining int    `json:"remaining"`
}

type devicesFrame struct {
	Type    string `json:"type"` // "devices"
	Account string `json:"account"`
}

// busEvent travels between nodes on the subject of one account (or of
// whose presence changed). It is encoded in a small binary form rather
// than JSON: every delivered item crosses the bus once, and the client
// frame it carries is passed on untouched.
type busEvent struct {
	T     byte   // evItem, evKick, evRevoked, evTyping, evDevices, evPresence, evKeysLow
	Dev   uint32 // target device; 0 = all devices of the account
	Seq   uint64 // evItem: the item's mailbox seq
	Conn  uint64 // evKick: the new connection's nonce
	Frame []byte // the client frame to pass on (item, typing, devices)
}

// Bus event types.
const (
	evItem byte = iota + 1
	evKick
	evRevoked
	evTyping
	evDevices
	evPresence
	evKeysLow
)

const busEventVersion = 1

// busEventHeader is version, type, device, seq and conn.
const busEventHeader = 1 + 1 + 4 + 8 + 8

func (e *busEvent) marshal() []byte {
	return append(e.appendHeader(make([]byte, 0, busEventHeader+len(e.Frame))), e.Frame...)
}

// appendHeader appends e's header; the frame follows it.
func (e *busEvent) appendHeader(b []byte) []byte {
	b = append(b, busEventVersion, e.T)
	b = binary.BigEndian.AppendUint32(b, e.Dev)
	b = binary.BigEndian.AppendUint64(b, e.Seq)
	return binary.BigEndian.AppendUint64(b, e.Conn)
}

// marshalItem is marshal of it's evItem event, with the item frame
// encoded in place instead of copied in: one allocation per item.
func marshalItem(it *parley.Item) []byte {
	ev := busEvent{T: evItem, Dev: it.Device, Seq: it.Seq}
	return appendItem(ev.appendHeader(make([]byte, 0, busEventHeader+itemFrameCap(it))), it)
}

var errBusEvent = errors.New("malformed bus event")

// unmarshal decodes b; Frame aliases b.
func (e *busEvent) unmarshal(b []byte) error {
	if len(b) < busEventHeader || b[0] != busEventVersion || b[1] < evItem || b[1] > evKeysLow {
		return errBusEvent
	}
	e.T = b[1]
	e.Dev = binary.BigEndian.Uint32(b[2:])
	e.Seq = binary.BigEndian.Uint64(b[6:])
	e.Conn = binary.BigEndian.Uint64(b[14:])
	e.Frame = b[busEventHeader:]
	return nil
}

func accountSubject(account string) string  { return "parley.a." + account }
func presenceSubject(account string) string { return "parley.p." + account }
