package hosted

import (
	"context"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
)

// InboxRecorder records business chats for the business inbox
// (*service.Inbox).
type InboxRecorder interface {
	RecordInbound(ctx context.Context, n *parley.BusinessNumber, in service.InboundChat) error
	RecordStatus(ctx context.Context, n *parley.BusinessNumber, o *parley.Outbound, status string, at time.Time, code int) error
	RecordStatuses(ctx context.Context, n *parley.BusinessNumber, sts []service.OutboundStatus) error
}

// InboxWebhooks passes what a hosted business device reports to the
// webhooks first and then to the inbox, so that the inbox sees exactly
// what the business's integration sees: customers' messages as the
// device decrypted them, and every status of every outbound message
// (sent through the inbox or the Cloud API alike). An error of either
// leaves the event unacknowledged, so that it comes again; both sides
// are idempotent (webhook event ids and inbox message ids derive from
// the wamid).
type InboxWebhooks struct {
	Next  BusinessWebhooks
	Inbox InboxRecorder
}

var _ BusinessWebhooks = InboxWebhooks{}

// Status implements BusinessWebhooks.
func (w InboxWebhooks) Status(ctx context.Context, n *parley.BusinessNumber, o *parley.Outbound, status string, at time.Time, code int) error {
	if w.Next != nil {
		if err := w.Next.Status(ctx, n, o, status, at, code); err != nil {
			return err
		}
	}
	return w.Inbox.RecordStatus(ctx, n, o, status, at, code)
}

// Statuses implements BusinessWebhooks.
func (w InboxWebhooks) Statuses(ctx context.Context, n *parley.BusinessNumber, sts []service.OutboundStatus) error {
	if w.Next != nil {
		if err := w.Next.Statuses(ctx, n, sts); err != nil {
			return err
		}
	}
	return w.Inbox.RecordStatuses(ctx, n, sts)
}

// Inbound implements BusinessWebhooks.
func (w InboxWebhooks) Inbound(ctx context.Context, n *parley.BusinessNumber, in *InboundMessage) error {
	if w.Next != nil {
		if err := w.Next.Inbound(ctx, n, in); err != nil {
			return err
		}
	}
	chat := service.InboundChat{WAMID: in.WAMID, From: in.From, Timestamp: in.Timestamp, Type: in.Type, Object: in.Object, ContextID: in.ContextID}
	if in.Referral != nil {
		chat.ReferralID = in.Referral.SourceID
	}
	return w.Inbox.RecordInbound(ctx, n, chat)
}
