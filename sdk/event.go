package sdk

import "time"

// Event is something that arrived for this device: *Message, *Receipt,
// *Typing, *Presence, *DevicesChanged, *GroupChanged, *IdentityNotice or
// *Undecryptable.
type Event interface {
	// Ack acknowledges the event once the application has handled it
	// (shown, stored). Only messages and receipts need it; for the others
	// it does nothing. Unacknowledged items come again on the next
	// connection, and the server sends at most 512 unacknowledged items.
	Ack() error
	event()
}

// Receipt kinds.
const (
	ReceiptDelivered = "delivered"
	ReceiptRead      = "read"
)

// Message is a received message: from another account, or (From is the
// own account) sent by another own device to To.
type Message struct {
	ID         string // the server's message id
	ClientID   string // the sender's client id
	From       string // sender account (digits)
	FromDevice uint32
	To         string // the conversation partner the sender addressed; "" for group messages
	Group      string // the group of a group message; "" for 1:1
	Timestamp  time.Time
	Type       string // payload type: "text", a media kind, "timer", or a type this SDK does not know
	Text       string // the text of a "text" payload
	// Attachment and Caption of a media payload (image, video, audio,
	// document, sticker); download with Client.DownloadAttachment.
	Attachment *Attachment
	Caption    string
	// Timer is the chat's new disappearing-message timer of a "timer"
	// payload (0: off).
	Timer time.Duration
	Raw   []byte // the opened plaintext (the body, when Err is set)
	// Err is set when the body could not be opened or decoded. The message
	// still needs Ack, or it comes back on every connection.
	Err error
	Seq uint64 // mailbox sequence number
	// ExpiresIn is set for disappearing messages: delete the local copy
	// this long after the message was read (or, for an own message sent
	// from another device, after it was received). 0: keep it.
	ExpiresIn time.Duration
	acker
}

// Receipt says that a message reached (delivered) or was read by a device
// of From. Read receipts also come from the own other devices (From is the
// own account), so that they can mark the chat read.
type Receipt struct {
	Kind       string // ReceiptDelivered or ReceiptRead
	MessageID  string
	From       string
	FromDevice uint32
	To         string
	Group      string // the group of the message receipted; "" for 1:1
	Timestamp  time.Time
	Seq        uint64
	acker
}

// Typing says that a device of From is composing or has paused.
type Typing struct {
	From       string
	FromDevice uint32
	State      string // "composing" or "paused"
}

// DevicesChanged says that the own account linked or unlinked a device.
type DevicesChanged struct {
	Account string
}

// IdentityNotice says that a contact's keys changed (see IdentityChange):
// show it in the chat ("Bob's security code changed"), with the new
// safety number to compare.
type IdentityNotice struct {
	IdentityChange
}

// Undecryptable says that a message arrived that this device could not
// decrypt (it lost its session, or was restored); the Messenger has asked
// the sending device to send it again, and the message arrives as a
// *Message when it does. Show "waiting for this message".
type Undecryptable struct {
	MessageID  string
	From       string
	FromDevice uint32
	Timestamp  time.Time
}

var (
	_ Event = (*IdentityNotice)(nil)
	_ Event = (*Undecryptable)(nil)
	_ Event = (*Message)(nil)
	_ Event = (*Receipt)(nil)
	_ Event = (*Typing)(nil)
	_ Event = (*Presence)(nil)
	_ Event = (*DevicesChanged)(nil)
)

func (*Message) event()        {}
func (*Presence) event()       {}
func (*Receipt) event()        {}
func (*Typing) event()         {}
func (*DevicesChanged) event() {}
func (*IdentityNotice) event() {}
func (*Undecryptable) event()  {}

// Ack does nothing: notices are not stored by the server.
func (*IdentityNotice) Ack() error { return nil }

// Ack does nothing: the message comes again when the sender resends it.
func (*Undecryptable) Ack() error { return nil }

// Ack does nothing: typing indicators are not stored.
func (*Typing) Ack() error { return nil }

// Ack does nothing: presence is not stored.
func (*Presence) Ack() error { return nil }

// Ack does nothing: device changes are not stored.
func (*DevicesChanged) Ack() error { return nil }

// acker acknowledges a mailbox item through its Messenger. It holds the
// Messenger's ack method, not the Messenger: events travel as interfaces,
// and a *Messenger reachable from one keeps its *http.Client's methods in
// WebAssembly builds, which links net/http's transport (see roundtrip_js.go).
type acker struct {
	ack func(key string) error
	key string
}

// Ack records the item as handled and acknowledges it to the server.
func (a acker) Ack() error {
	if a.ack == nil {
		return nil
	}
	return a.ack(a.key)
}

// Key returns the item's dedupe key (see the package documentation).
func (a acker) Key() string { return a.key }

func messageKey(id string) string { return "m:" + id }

func receiptKey(kind, id, from string, device uint32) string {
	return kind + ":" + id + ":" + from + "." + uitoa(device)
}
