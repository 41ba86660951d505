package gateway

import (
	"encoding/binary"
	"encoding/json"
	"errors"

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
	Extra    json.RawMessage `json:"-"`
}

type wireCopy struct {
	Account string `json:"account"`
	Device  uint32 `json:"device"`
	Body    []byte `json:"body"` // base64 in JSON
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
	Timestamp  int64  `json:"timestamp"` // unix milliseconds
	Body       []byte `json:"body,omitempty"`
}

func encodeItem(it *parley.Item) []byte {
	b, _ := json.Marshal(itemFrame{
		Type: "item", Seq: it.Seq, Kind: string(it.Kind), MessageID: it.MessageID, ClientID: it.ClientID,
		From: it.From, FromDevice: it.FromDevice, To: it.To, Timestamp: it.Timestamp.UnixMilli(), Body: it.Body,
	})
	return b
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
	b := make([]byte, busEventHeader, busEventHeader+len(e.Frame))
	b[0], b[1] = busEventVersion, e.T
	binary.BigEndian.PutUint32(b[2:], e.Dev)
	binary.BigEndian.PutUint64(b[6:], e.Seq)
	binary.BigEndian.PutUint64(b[14:], e.Conn)
	return append(b, e.Frame...)
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
