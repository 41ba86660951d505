package parley

import (
	"time"
)

// Kind says what a mailbox item carries.
type Kind string

const (
	KindMessage   Kind = "msg"       // an end-to-end encrypted message (Body is ciphertext)
	KindDelivered Kind = "delivered" // a delivery receipt for MessageID, made by the server on device ack
	KindRead      Kind = "read"      // a read receipt for MessageID, sent by the reader
	KindGroup     Kind = "group"     // a group membership change; Body is a GroupEvent in JSON, written by the server
	// KindRetry asks the device that sent MessageID to send it again
	// under a new session: the recipient device could not decrypt it
	// (lost state, restored device). It goes to that one device only.
	KindRetry Kind = "retry"
)

// Limits of the client protocol.
const (
	MaxBodySize     = 64 << 10 // one ciphertext copy; media travels as blobs
	MaxCopies       = 64       // device copies in one send
	MaxClientIDSize = 64
)

// Item is one entry of a device's mailbox: what the server keeps for an
// offline device until it acknowledges, then deletes. Seq numbers are
// per device, start at 1 and have no gaps, so a connection that sees a gap
// knows it must fetch from the store.
type Item struct {
	Account    string // the recipient device's account
	Device     uint32 // the recipient device
	Seq        uint64
	Kind       Kind
	MessageID  string // the server id of the message (for receipts: of the message receipted)
	ClientID   string // the sender's client message id (messages only)
	From       string // sender account
	FromDevice uint32
	To         string // the conversation's other party as seen by the sender (sent-sync copies)
	Timestamp  time.Time
	Body       []byte // ciphertext for messages; nil for receipts
	Group      string // the group of a group message, its receipt or a KindGroup event; "" otherwise

	// ExpiresIn makes a message disappear: the store never hands out the
	// item once it is that old (from Timestamp) and purges it; delivered
	// copies carry it so that clients delete theirs. 0: never.
	ExpiresIn time.Duration
}

// Copy is one ciphertext for one device.
type Copy struct {
	Account string
	Device  uint32
	Body    []byte
}

// Envelope is a send request: one message encrypted once per recipient
// device and once per the sender's own other devices.
type Envelope struct {
	From       string
	FromDevice uint32
	To         string
	ClientID   string
	Copies     []Copy
	Group      string // a group send: To is empty and Copies cover the members' devices

	Media     []string      // ids of the blobs the message references (uploaded by From)
	ExpiresIn time.Duration // disappearing message: see Item.ExpiresIn; 0: never
}

// Validate checks the shape of an envelope; the device lists are checked
// by the messaging service against the store.
func (e *Envelope) Validate() error {
	if e.Group != "" {
		return e.validateGroup()
	}
	if !ValidAccountID(e.To) {
		return Errorf(EINVALID, "recipient must be a phone number in digits")
	}
	if e.ClientID == "" || len(e.ClientID) > MaxClientIDSize {
		return Errorf(EINVALID, "client message id must have 1 to %d bytes", MaxClientIDSize)
	}
	if len(e.Copies) == 0 {
		return Errorf(EINVALID, "no device copies")
	}
	if len(e.Copies) > MaxCopies {
		return Errorf(ETOOLARGE, "more than %d device copies", MaxCopies)
	}
	for _, c := range e.Copies {
		if c.Account != e.To && c.Account != e.From {
			return Errorf(EINVALID, "copy for %s is neither for the recipient nor for the sender", c.Account)
		}
		if c.Account == e.From && c.Device == e.FromDevice {
			return Errorf(EINVALID, "copy for the sending device itself")
		}
		if len(c.Body) == 0 {
			return Errorf(EINVALID, "empty ciphertext")
		}
		if len(c.Body) > MaxBodySize {
			return Errorf(ETOOLARGE, "ciphertext larger than %d bytes", MaxBodySize)
		}
	}
	if err := ValidateMediaIDs(e.Media); err != nil {
		return err
	}
	return ValidateExpiresIn(e.ExpiresIn)
}

// Delivery is what the store commits for one accepted message: the
// idempotency key (From, FromDevice, ClientID), the server's id and time,
// and one item per device copy.
type Delivery struct {
	From       string
	FromDevice uint32
	ClientID   string
	MessageID  string
	Timestamp  time.Time
	Items      []Item // Seq is assigned by the store
	Duplicate  bool   // set by the store when the key was already committed

	// Media are the blobs the message references: the store links them
	// to MessageID in the same transaction (not for a duplicate), so that
	// they live until every item of the message is gone.
	Media []string

	// Webhooks are outbox events committed in the same transaction (not
	// for a duplicate): a status webhook is never lost between the
	// commit and its delivery, and never sent for a message that was not
	// committed. IDs are filled in when empty (see WebhookOutbox).
	Webhooks []WebhookEvent
}

// validateGroup checks the shape of a group send; whether the copies
// cover exactly the members' devices is checked against the store.
func (e *Envelope) validateGroup() error {
	if !ValidGroupID(e.Group) {
		return Errorf(EINVALID, "malformed group id")
	}
	if e.To != "" {
		return Errorf(EINVALID, "a group send has no recipient account (to)")
	}
	if e.ClientID == "" || len(e.ClientID) > MaxClientIDSize {
		return Errorf(EINVALID, "client message id must have 1 to %d bytes", MaxClientIDSize)
	}
	if len(e.Copies) == 0 {
		return Errorf(EINVALID, "no device copies")
	}
	if len(e.Copies) > MaxGroupCopies {
		return Errorf(ETOOLARGE, "more than %d device copies", MaxGroupCopies)
	}
	total := 0
	for _, c := range e.Copies {
		if !ValidAccountID(c.Account) {
			return Errorf(EINVALID, "copy accounts must be phone numbers in digits")
		}
		if c.Account == e.From && c.Device == e.FromDevice {
			return Errorf(EINVALID, "copy for the sending device itself")
		}
		if len(c.Body) == 0 {
			return Errorf(EINVALID, "empty ciphertext")
		}
		if len(c.Body) > MaxBodySize {
			return Errorf(ETOOLARGE, "ciphertext larger than %d bytes", MaxBodySize)
		}
		total += len(c.Body)
	}
	if total > MaxGroupSendBytes {
		return Errorf(ETOOLARGE, "a group send stores at most %d bytes (body size × devices); send large content as an attachment", MaxGroupSendBytes)
	}
	return nil
}
