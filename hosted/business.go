package hosted

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sdk"
	"github.com/parley-chat/parley/service"
)

// Cloud API error codes of asynchronous failures (failed statuses).
const (
	CodeNoAccount     = 131026 // the recipient has no Parley account (not a WhatsApp user, in Meta's words)
	CodeOutsideWindow = 131047 // free-form message more than 24 hours after the customer's last message
	CodeUnknown       = 131000 // something went wrong
	// CodeMarketingOptOut: a marketing template to a customer without a
	// recorded marketing opt-in, or after an opt-out (the consent ledger).
	CodeMarketingOptOut = 131050
	// CodeMessagingLimit: the business reached as many customers outside
	// their service window in 24 hours as its tier allows. Meta documents
	// no code of its own for it; 131048 (spam rate limit) is the nearest.
	CodeMessagingLimit = 131048
)

// TierLimit is how many distinct customers a business may reach outside
// their service window per rolling 24 hours (Meta's messaging limits);
// -1 means no limit. Unknown tiers get the lowest.
func TierLimit(tier string) int {
	switch tier {
	case "TIER_2K":
		return 2_000
	case "TIER_10K":
		return 10_000
	case "TIER_100K":
		return 100_000
	case "TIER_UNLIMITED":
		return -1
	}
	return 250
}

// Window is the customer-service window: free-form messages may follow a
// customer's message within it; outside it only templates.
const Window = 24 * time.Hour

// InboundMessage is a customer's message to a business number, shaped for
// the Cloud API's webhooks (cloud-api reference §3.4).
type InboundMessage struct {
	WAMID     string
	From      string // the customer's wa_id (digits)
	Timestamp time.Time
	Type      string          // text, interactive, reaction, … (unsupported for what has no Cloud API form)
	Object    json.RawMessage // the type's object ("text":{"body":…} → {"body":…})
	ContextID string          // the wamid it answers, if any
	Referral  *sdk.Referral   // how the customer came to the chat (link, short link, QR code, website button), if told
}

// BusinessWebhooks turns what a hosted business device sees into webhook
// events (package webhook's outbox).
type BusinessWebhooks interface {
	// Status reports a status of an outbound message: sent, delivered,
	// read, or failed with a Cloud API error code.
	Status(ctx context.Context, n *parley.BusinessNumber, o *parley.Outbound, status string, at time.Time, code int) error
	// Statuses reports statuses of many outbound messages of n, as
	// Status does one after another, in fewer transactions.
	Statuses(ctx context.Context, n *parley.BusinessNumber, sts []service.OutboundStatus) error
	// Inbound reports a customer's message.
	Inbound(ctx context.Context, n *parley.BusinessNumber, in *InboundMessage) error
}

// BusinessStore is what the business handler needs from storage.
type BusinessStore interface {
	parley.OutboundQueue
	parley.BusinessChatStore
	TemplateByName(ctx context.Context, business, name, language string) (*parley.Template, error)
	BusinessNumberByAccount(ctx context.Context, account string) (*parley.BusinessNumber, error)
	Catalog(ctx context.Context, id string) (*parley.Catalog, error)
	Product(ctx context.Context, catalog, retailerID string) (*parley.Product, error)
}

// Business runs hosted business devices (kind parley.HostedBusiness): it
// delivers what businesses sent through the Cloud API (the outbound
// queue), end-to-end encrypted to the customers' devices, and turns
// receipts and customers' messages into webhooks.
//
// Delivery keeps each number's queue order; a message is handed to the
// Messenger with a client id derived from its wamid, so a retry after a
// crash or a takeover never sends it twice. Asynchronous failures are
// Meta's: no account (131026), outside the 24-hour window (131047).
type Business struct {
	Store    BusinessStore
	Webhooks BusinessWebhooks
	Media    BusinessMedia   // business media: sending by id, customers' files; nil: neither
	Consent  BusinessConsent // the opt-in ledger; nil: no consent rules (tests of other parts)
	HTTP     *http.Client    // fetches media links (SSRF-guarded: webhook.NewClient)
	Clock    parley.Clock
	Log      *slog.Logger

	mu   sync.Mutex
	wake map[string]chan struct{} // by phone_number_id
}

// Queued implements service.OutboundListener: it wakes the number's
// delivery loop (if this node runs it).
func (b *Business) Queued(o *parley.Outbound) {
	b.mu.Lock()
	ch := b.wake[o.Number]
	b.mu.Unlock()
	if ch != nil {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// Serve implements Handler.
func (b *Business) Serve(ctx context.Context, d *parley.HostedDevice, m *sdk.Messenger) error {
	n, err := b.Store.BusinessNumberByAccount(ctx, d.Account)
	if err != nil {
		return err
	}
	wake := make(chan struct{}, 1)
	b.mu.Lock()
	if b.wake == nil {
		b.wake = map[string]chan struct{}{}
	}
	b.wake[n.ID] = wake
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		if b.wake[n.ID] == wake {
			delete(b.wake, n.ID)
		}
		b.mu.Unlock()
	}()
	// A receipt can arrive before the sender has stored the link of its
	// message (the server acknowledges the send first): delivery holds
	// linking while it sends, and receipts wait for it.
	var linking sync.Mutex
	go b.deliver(ctx, n, m, wake, &linking)
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-m.Events():
			if !ok {
				return nil
			}
			if _, ok := ev.(*sdk.Receipt); ok {
				linking.Lock()
				linking.Unlock()
			}
			if err := b.event(ctx, n, m, ev); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				b.Log.Error("business device: event not handled; it comes again", "number", n.ID, "err", err)
				continue // not acknowledged
			}
			if err := ev.Ack(); err != nil {
				return err
			}
		}
	}
}

// event handles a customer's message or a receipt.
func (b *Business) event(ctx context.Context, n *parley.BusinessNumber, m *sdk.Messenger, ev sdk.Event) error {
	switch e := ev.(type) {
	case *sdk.Receipt:
		link, err := b.Store.BusinessMessageByID(ctx, e.MessageID)
		if parley.Match(err, parley.ENOTFOUND) {
			return nil // a receipt for something else
		}
		if err != nil {
			return err
		}
		status := parley.OutboundDelivered
		if e.Kind == sdk.ReceiptRead {
			status = parley.OutboundRead
		}
		return b.setStatus(ctx, n, link.WAMID, status, e.Timestamp, 0)
	case *sdk.Message:
		if e.From == n.Account {
			return nil // a copy of what this device sent
		}
		in := inbound(e)
		if e.Type == sdk.PayloadConsent {
			// A setting, not a message: no message webhook, no window.
			return b.consentSwitch(ctx, n, e, in)
		}
		if err := b.receiveMedia(ctx, n, m, e, in); err != nil {
			return err
		}
		if err := b.Store.PutBusinessMessage(ctx, &parley.BusinessMessage{MessageID: e.ID, WAMID: in.WAMID, Number: n.ID,
			Customer: e.From, Inbound: true, CreatedAt: e.Timestamp}); err != nil {
			return err
		}
		if err := b.Store.TouchWindow(ctx, n.ID, e.From, e.Timestamp); err != nil {
			return err
		}
		if b.Webhooks != nil {
			if err := b.Webhooks.Inbound(ctx, n, in); err != nil {
				return err
			}
		}
		return b.consentKeyword(ctx, n, e, in)
	}
	return nil
}

// InboundWAMID is the wamid of a customer's message: "wamid." and the
// base64 of its Parley message id, so that it maps back without a lookup
// and is the same on every node.
func InboundWAMID(messageID string) string {
	if raw, err := hex.DecodeString(messageID); err == nil {
		return "wamid." + base64.StdEncoding.EncodeToString(raw)
	}
	return "wamid." + base64.StdEncoding.EncodeToString([]byte(messageID))
}

// inbound shapes a customer's message for the Cloud API.
func inbound(e *sdk.Message) *InboundMessage {
	in := &InboundMessage{WAMID: InboundWAMID(e.ID), From: e.From, Timestamp: e.Timestamp, Type: "unsupported", Referral: referralOf(e.Raw)}
	obj := func(v any) json.RawMessage { b, _ := json.Marshal(v); return b }
	var ctxRef struct {
		Context *sdk.ReplyContext `json:"context"`
	}
	json.Unmarshal(e.Raw, &ctxRef)
	if ctxRef.Context != nil {
		in.ContextID = ctxRef.Context.MessageID
	}
	switch {
	case e.Err != nil:
	case e.Type == "text":
		in.Type, in.Object = "text", obj(map[string]string{"body": e.Text})
	case e.Type == sdk.PayloadReaction:
		var p sdk.ReactionPayload
		if json.Unmarshal(e.Raw, &p) == nil {
			in.Type, in.Object = "reaction", obj(p.Reaction)
		}
	case e.Type == sdk.PayloadInteractiveReply:
		var p sdk.ReplyPayload
		if json.Unmarshal(e.Raw, &p) == nil {
			switch {
			case p.ButtonReply != nil:
				in.Type, in.Object = "interactive", obj(map[string]any{"type": "button_reply", "button_reply": p.ButtonReply})
			case p.ListReply != nil:
				in.Type, in.Object = "interactive", obj(map[string]any{"type": "list_reply", "list_reply": p.ListReply})
			}
			if p.Context != nil {
				in.ContextID = p.Context.MessageID
			}
		}
	}
	return in
}

// deliver sends the number's accepted messages in queue order until ctx
// ends, waking on Queued or every two seconds. The messages of one read
// of the queue that fail without being sent (outside the window, say)
// are settled together (failures).
func (b *Business) deliver(ctx context.Context, n *parley.BusinessNumber, m *sdk.Messenger, wake <-chan struct{}, linking *sync.Mutex) {
	var after uint64
	var f failures
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for ctx.Err() == nil {
		batch, err := b.Store.NextOutbound(ctx, n.ID, after, 100)
		if err != nil {
			if ctx.Err() == nil {
				b.Log.Warn("business device: reading the queue", "number", n.ID, "err", err)
			}
		}
		windows := b.windows(ctx, n, batch)
		for i := range batch {
			o := &batch[i]
			if o.Status == parley.OutboundAccepted {
				linking.Lock()
				err := b.deliverOne(ctx, n, m, o, windows, &f)
				linking.Unlock()
				if err != nil {
					if ctx.Err() == nil {
						b.Log.Warn("business device: delivery will be retried", "wamid", o.WAMID, "err", err)
					}
					break // keep the order: retry from here
				}
			}
			after = o.Seq
		}
		if first, err := b.flush(ctx, n, &f); err != nil {
			if ctx.Err() == nil {
				b.Log.Warn("business device: failed statuses will be retried", "number", n.ID, "err", err)
			}
			after = first - 1 // read them again: retry from the first failure held
			f.reset()
		}
		if len(batch) == 100 {
			continue
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-t.C:
		}
	}
}

// windows returns the last message times of the customers that batch's
// accepted messages go to, read at once; nil when that failed (each
// message then reads its own).
func (b *Business) windows(ctx context.Context, n *parley.BusinessNumber, batch []parley.Outbound) map[string]time.Time {
	var to []string
	for i := range batch {
		if o := &batch[i]; o.Status == parley.OutboundAccepted && o.Type != parley.MessageRead {
			to = append(to, o.To)
		}
	}
	if len(to) == 0 {
		return nil
	}
	last, err := b.Store.LastInbounds(ctx, n.ID, to)
	if err != nil {
		return nil
	}
	return last
}

// failures holds the failed statuses of messages not sent, to be reported
// in one go (flush): a few transactions for a whole read of the queue
// instead of several for each message. They are flushed before any other
// status of the number is reported, so each customer's webhooks keep the
// queue's order.
type failures struct {
	sts []service.OutboundStatus
}

func (f *failures) reset() { clear(f.sts); f.sts = f.sts[:0] }

// fail holds the failed status of o (not sent) with code.
func (b *Business) fail(f *failures, o *parley.Outbound, at time.Time, code int) error {
	f.sts = append(f.sts, service.OutboundStatus{Outbound: o, Status: parley.OutboundFailed, At: at, Code: code})
	return nil
}

// flush reports and stores the held failures, as setStatus would one by
// one, and forgets them. On an error it keeps them and returns the
// sequence number of the first one: none is settled for sure, so all
// are to be tried again (webhook event ids and the inbox make a second
// report of one a no-op).
func (b *Business) flush(ctx context.Context, n *parley.BusinessNumber, f *failures) (uint64, error) {
	if len(f.sts) == 0 {
		return 0, nil
	}
	first := f.sts[0].Outbound.Seq
	if b.Webhooks != nil {
		if err := b.Webhooks.Statuses(ctx, n, f.sts); err != nil {
			return first, err
		}
	}
	outs := make([]parley.Outbound, len(f.sts))
	for i, st := range f.sts {
		outs[i] = parley.Outbound{WAMID: st.Outbound.WAMID, Status: st.Status, ErrorCode: st.Code, UpdatedAt: st.At}
	}
	if err := b.Store.SetOutboundStatuses(ctx, outs); err != nil {
		return first, err
	}
	f.reset()
	return 0, nil
}

// deliverOne sends (or fails) one accepted message; an error leaves it
// accepted, to be tried again. windows has the time of the customer's
// last message, read with the batch (nil: read it here). A failure
// without a send is held in f.
func (b *Business) deliverOne(ctx context.Context, n *parley.BusinessNumber, m *sdk.Messenger, o *parley.Outbound, windows map[string]time.Time, f *failures) error {
	now := b.Clock.Now()
	if o.Type == parley.MessageRead {
		var r struct {
			MessageID string `json:"message_id"`
		}
		json.Unmarshal(o.Body, &r)
		link, err := b.Store.BusinessMessageByWAMID(ctx, r.MessageID)
		if err == nil && link.Inbound && link.Number == n.ID {
			if err := m.MarkRead(ctx, link.Customer, link.MessageID); err != nil {
				return err
			}
		}
		// A read request for an unknown message is done too: nothing to send.
		_, err = b.Store.SetOutboundStatus(ctx, o.WAMID, parley.OutboundRead, 0, now)
		return err
	}
	last := windows[o.To]
	if windows == nil {
		var err error
		if last, err = b.Store.LastInbound(ctx, n.ID, o.To); err != nil {
			return err
		}
	}
	if o.Type == parley.MessageTemplate && o.Category == parley.CategoryMarketing && b.Consent != nil {
		ok, err := b.Consent.MarketingAllowed(ctx, n.Business, o.To)
		if err != nil {
			return err
		}
		if !ok {
			return b.fail(f, o, now, CodeMarketingOptOut)
		}
	}
	if inWindow := !last.IsZero() && now.Sub(last) <= Window; !inWindow {
		if o.Type != parley.MessageTemplate {
			return b.fail(f, o, now, CodeOutsideWindow)
		}
		ok, err := b.Store.Reach(ctx, n.Business, o.To, now.Add(-Window), now, TierLimit(n.MessagingTier))
		if err != nil {
			return err
		}
		if !ok {
			return b.fail(f, o, now, CodeMessagingLimit)
		}
	}
	att, err := b.attach(ctx, n, m, o)
	var mf *mediaFailure
	if errors.As(err, &mf) {
		b.Log.Info("business device: media failed", "wamid", o.WAMID, "err", err)
		return b.fail(f, o, now, CodeMediaUpload)
	}
	if err != nil {
		return err
	}
	out := sdk.Outgoing{To: o.To, ClientID: clientID(o.WAMID)}
	if att != nil {
		out.Media = []string{att.ID}
	}
	body := o.Body
	if o.Type == parley.MessageTemplate {
		body = b.withTemplateText(ctx, n, body)
	}
	if o.Type == parley.MessageInteractive {
		body = b.withProducts(ctx, n, body)
	}
	out.Plaintext, _ = json.Marshal(sdk.BusinessPayload{Type: sdk.PayloadBusiness, WAMID: o.WAMID, Message: body, Media: att})
	r, err := m.Send(ctx, out)
	if err != nil {
		var se *sdk.Error
		switch {
		case errors.As(err, &se) && se.Code == sdk.CodeNotFound, errors.Is(err, sdk.ErrNoKeys):
			return b.fail(f, o, now, CodeNoAccount)
		case errors.As(err, &se) && se.Code == sdk.CodeInvalid:
			return b.fail(f, o, now, CodeUnknown)
		}
		return err
	}
	// The failures held come first, in the queue's order.
	if _, err := b.flush(ctx, n, f); err != nil {
		return err
	}
	if err := b.Store.PutBusinessMessage(ctx, &parley.BusinessMessage{MessageID: r.MessageID, WAMID: o.WAMID, Number: n.ID,
		Customer: o.To, CreatedAt: r.Timestamp}); err != nil {
		return err
	}
	return b.setStatus(ctx, n, o.WAMID, parley.OutboundSent, r.Timestamp, 0)
}

// withTemplateText adds the approved template's header, body and footer
// texts to the components of a template send, so that the customer's
// client can show the message with its parameters filled in (the send
// carries only the parameters). Without the template, body is returned
// unchanged.
func (b *Business) withTemplateText(ctx context.Context, n *parley.BusinessNumber, body []byte) []byte {
	var msg map[string]json.RawMessage
	var tpl struct {
		Name     string `json:"name"`
		Language struct {
			Code string `json:"code"`
		} `json:"language"`
		Components []map[string]any `json:"components"`
	}
	if json.Unmarshal(body, &msg) != nil || json.Unmarshal(msg["template"], &tpl) != nil {
		return body
	}
	t, err := b.Store.TemplateByName(ctx, n.Business, tpl.Name, tpl.Language.Code)
	if err != nil {
		return body
	}
	approved, err := parley.ParseTemplateComponents(t.Components)
	if err != nil {
		return body
	}
	var raw map[string]any
	json.Unmarshal(msg["template"], &raw)
	comps := tpl.Components
	for _, c := range approved {
		typ := strings.ToLower(c.Type)
		if c.Text == "" || (typ != "header" && typ != "body" && typ != "footer") {
			continue
		}
		found := false
		for _, sent := range comps {
			if s, _ := sent["type"].(string); strings.ToLower(s) == typ {
				sent["text"], found = c.Text, true
			}
		}
		if !found {
			comps = append(comps, map[string]any{"type": typ, "text": c.Text})
		}
	}
	raw["components"] = comps
	tb, err := json.Marshal(raw)
	if err != nil {
		return body
	}
	msg["template"] = tb
	out, err := json.Marshal(msg)
	if err != nil {
		return body
	}
	return out
}

// setStatus moves a message forward and reports the change by webhook:
// the webhook first (its event id is derived from the wamid and status,
// so enqueueing it again does nothing), then the status, so that a crash
// in between repeats the report instead of losing it.
func (b *Business) setStatus(ctx context.Context, n *parley.BusinessNumber, wamid, status string, at time.Time, code int) error {
	o, err := b.Store.Outbound(ctx, wamid)
	if err != nil {
		return err
	}
	if parley.OutboundRank(status) <= parley.OutboundRank(o.Status) {
		return nil // not forward (a read receipt came before the delivered one, say)
	}
	if b.Webhooks != nil {
		if err := b.Webhooks.Status(ctx, n, o, status, at, code); err != nil {
			return err
		}
	}
	_, err = b.Store.SetOutboundStatus(ctx, wamid, status, code, at)
	return err
}

// Numbers provisions the hosted device of every new business number
// (service.HostedDevices).
type Numbers struct{ Provisioner *Provisioner }

// NumberCreated creates the number's hosted business device.
func (p Numbers) NumberCreated(ctx context.Context, n *parley.BusinessNumber) error {
	_, err := p.Provisioner.Provision(ctx, n.Account, parley.HostedBusiness, n.VerifiedName)
	return err
}

// clientID derives the Parley client id of a wamid (client ids are at
// most 64 bytes; wamids may be longer).
func clientID(wamid string) string {
	h := sha256.Sum256([]byte(wamid))
	return "w-" + hex.EncodeToString(h[:16])
}
