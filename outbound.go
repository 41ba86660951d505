package parley

import (
	"context"
	"time"
)

// Outbound statuses of a message accepted by the Cloud API, in the order
// they may follow each other; failed may follow accepted or sent. A
// status never goes back (read is never replaced by delivered).
const (
	OutboundAccepted  = "accepted"
	OutboundSent      = "sent"
	OutboundDelivered = "delivered"
	OutboundRead      = "read"
	OutboundFailed    = "failed"
)

// OutboundRank orders statuses: a status update applies only when its
// rank is higher than the stored one. Unknown statuses rank 0.
func OutboundRank(status string) int {
	switch status {
	case OutboundAccepted:
		return 1
	case OutboundSent:
		return 2
	case OutboundDelivered:
		return 3
	case OutboundRead:
		return 4
	case OutboundFailed:
		return 5
	}
	return 0
}

// Outbound is a message a business sent through the Cloud API, accepted
// and queued for its number's hosted device, which encrypts and delivers
// it and reports its statuses. Mark-as-read requests are queued too
// (Type MessageRead, Body the request, To empty: the worker finds the
// conversation from the inbound message id).
type Outbound struct {
	WAMID     string // the wamid returned to the business
	Number    string // phone_number_id
	Seq       uint64 // per number, from 1, without gaps: the order of acceptance
	To        string // the recipient's wa_id (E.164 digits); "" for read receipts
	Type      string // a Message* type
	Body      []byte // the validated, normalized Cloud API message JSON
	BizOpaque string // biz_opaque_callback_data, echoed in status webhooks
	ContextID string // context.message_id of a reply
	Category  string // the template's category for template sends (pricing); ""
	Status    string // Outbound*
	ErrorCode int    // the Cloud API error code of a failed message
	CreatedAt time.Time
	UpdatedAt time.Time
}

// OutboundQueue keeps accepted Cloud API messages until the delivery
// worker of their number has handled them.
type OutboundQueue interface {
	// Enqueue commits o with status accepted and the next sequence
	// number of its number (written into o.Seq). Calls from many
	// goroutines are committed together (group commit). ENOTFOUND when
	// the number is unknown; ECONFLICT when the wamid is taken.
	Enqueue(ctx context.Context, o *Outbound) error
	// NextOutbound returns up to limit messages of number with Seq >
	// afterSeq, by Seq, whatever their status.
	NextOutbound(ctx context.Context, number string, afterSeq uint64, limit int) ([]Outbound, error)
	// Outbound returns one message by wamid; ENOTFOUND when unknown.
	Outbound(ctx context.Context, wamid string) (*Outbound, error)
	// SetOutboundStatus moves the message forward to status (see
	// OutboundRank) with errorCode for failures, and reports whether it
	// changed; an update that would go back changes nothing. ENOTFOUND
	// when the wamid is unknown.
	SetOutboundStatus(ctx context.Context, wamid, status string, errorCode int, at time.Time) (changed bool, err error)
	// SetOutboundStatuses moves many messages forward in one
	// transaction: each (by WAMID) to its Status with its ErrorCode at
	// its UpdatedAt, as SetOutboundStatus does, except that an unknown
	// wamid changes nothing instead of failing the others. EINVALID for
	// an unknown status.
	SetOutboundStatuses(ctx context.Context, os []Outbound) error
	// PurgeOutbound deletes messages created before the time that are
	// no longer accepted (sent, delivered, read or failed).
	PurgeOutbound(ctx context.Context, before time.Time) (int64, error)
}
