package hosted

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/webhook"
)

// Webhooks connects the business platform to the webhook engine: it
// builds Meta-shaped payloads for statuses, inbound messages and template
// updates, enqueues one event per subscribed app, and resolves endpoint
// ids to the apps' current callback URLs and secrets.
//
// Endpoint ids are "<waba>/<app>/<phone_number_id>" (the number is empty
// for business-level events), resolved when each event is sent, so a new
// callback URL or rotated secret applies to events already queued.
// Ordering keys are "<phone_number_id>/<customer wa_id>": one customer's
// events go out in order. Event ids derive from what they report, so that
// enqueueing one again after a crash does nothing.
type Webhooks struct {
	Outbox   parley.WebhookOutbox
	Business interface {
		WebhookTargets(ctx context.Context, waba, numberID string) ([]service.WebhookTarget, error)
	}
	Clock parley.Clock
	Log   *slog.Logger
}

var (
	_ BusinessWebhooks         = (*Webhooks)(nil)
	_ service.BusinessEvents   = (*Webhooks)(nil)
	_ webhook.EndpointResolver = (*Webhooks)(nil)
)

// Meta's titles of the failure codes a hosted device reports.
var failureTitles = map[int]string{
	CodeNoAccount:      "Message undeliverable",
	CodeOutsideWindow:  "Re-engagement message",
	CodeUnknown:        "Something went wrong",
	CodeMessagingLimit: "Spam rate limit hit",
	// Meta's reference title; the customer opted out of marketing, or
	// never opted in (Parley requires a recorded opt-in).
	CodeMarketingOptOut: "User has stopped receiving marketing messages",
}

func eventID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "whe_" + hex.EncodeToString(h[:16])
}

func metadata(n *parley.BusinessNumber) webhook.Metadata {
	return webhook.Metadata{DisplayPhoneNumber: strings.TrimPrefix(n.DisplayPhone, "+"), PhoneNumberID: n.ID}
}

// enqueue sends body to every app subscribed for the number.
func (w *Webhooks) enqueue(ctx context.Context, waba, number, key, id string, body []byte) error {
	targets, err := w.Business.WebhookTargets(ctx, waba, number)
	if err != nil {
		return err
	}
	events := make([]parley.WebhookEvent, 0, len(targets))
	for _, t := range targets {
		events = append(events, parley.WebhookEvent{ID: eventID(id, t.App), Endpoint: waba + "/" + t.App + "/" + number,
			Key: key, Body: body, CreatedAt: w.Clock.Now()})
	}
	if len(events) == 0 {
		return nil // nobody subscribed: nothing to tell
	}
	return w.Outbox.EnqueueWebhooks(ctx, events)
}

// Status implements BusinessWebhooks.
func (w *Webhooks) Status(ctx context.Context, n *parley.BusinessNumber, o *parley.Outbound, status string, at time.Time, code int) error {
	body, err := statusBody(n, o, status, at, code)
	if err != nil {
		return err
	}
	return w.enqueue(ctx, n.Business, n.ID, n.ID+"/"+o.To, o.WAMID+"/"+status, body)
}

// Statuses implements BusinessWebhooks: the number's subscribers are
// looked up once, and every event is committed in one EnqueueWebhooks.
func (w *Webhooks) Statuses(ctx context.Context, n *parley.BusinessNumber, sts []service.OutboundStatus) error {
	if len(sts) == 0 {
		return nil
	}
	targets, err := w.Business.WebhookTargets(ctx, n.Business, n.ID)
	if err != nil || len(targets) == 0 {
		return err // nobody subscribed: nothing to tell
	}
	now := w.Clock.Now()
	events := make([]parley.WebhookEvent, 0, len(sts)*len(targets))
	for _, st := range sts {
		o := st.Outbound
		body, err := statusBody(n, o, st.Status, st.At, st.Code)
		if err != nil {
			return err
		}
		id, key, endpoint := o.WAMID+"/"+st.Status, n.ID+"/"+o.To, n.Business+"/"
		for _, t := range targets {
			events = append(events, parley.WebhookEvent{ID: eventID(id, t.App), Endpoint: endpoint + t.App + "/" + n.ID,
				Key: key, Body: body, CreatedAt: now})
		}
	}
	return w.Outbox.EnqueueWebhooks(ctx, events)
}

// statusBody is the webhook payload of a status of o.
func statusBody(n *parley.BusinessNumber, o *parley.Outbound, status string, at time.Time, code int) ([]byte, error) {
	c := webhook.StatusChange{MessageID: o.WAMID, Status: status, At: at, RecipientID: o.To, BizOpaqueCallbackData: o.BizOpaque}
	if status == parley.OutboundFailed {
		title := failureTitles[code]
		if title == "" {
			title = failureTitles[CodeUnknown]
		}
		c.Error = &webhook.Error{Code: code, Title: title, Message: title, ErrorData: &webhook.ErrorData{Details: title}}
	} else {
		c.Category = strings.ToLower(o.Category)
		if c.Category == "" {
			c.Category, c.PricingType = "service", webhook.PricingFreeCustomerService
		}
	}
	return webhook.StatusUpdate(n.Business, metadata(n), webhook.NewStatus(c))
}

// Inbound implements BusinessWebhooks.
func (w *Webhooks) Inbound(ctx context.Context, n *parley.BusinessNumber, in *InboundMessage) error {
	m := webhook.Message{From: in.From, ID: in.WAMID, Timestamp: strconv.FormatInt(in.Timestamp.Unix(), 10), Type: in.Type, Object: in.Object}
	if in.ContextID != "" {
		m.Context = &webhook.Context{From: strings.TrimPrefix(n.DisplayPhone, "+"), ID: in.ContextID}
	}
	if r := in.Referral; r != nil {
		m.Referral = &webhook.Referral{SourceURL: r.SourceURL, SourceID: r.SourceID, SourceType: r.SourceType, Body: r.Body, Headline: r.Headline}
	}
	if in.Type == "unsupported" {
		m.Object = nil
		m.Errors = []webhook.Error{{Code: 131051, Title: "Message type unknown", Message: "Message type unknown",
			ErrorData: &webhook.ErrorData{Details: "Message type is currently not supported."}}}
	}
	body, err := webhook.InboundMessage(n.Business, metadata(n), webhook.Contact{WaID: in.From, Profile: webhook.Profile{Name: in.From}}, m)
	if err != nil {
		return err
	}
	return w.enqueue(ctx, n.Business, n.ID, n.ID+"/"+in.From, in.WAMID, body)
}

// TemplateStatusChanged implements service.BusinessEvents.
func (w *Webhooks) TemplateStatusChanged(ctx context.Context, ev parley.TemplateEvent) {
	id, _ := strconv.ParseInt(ev.Template.ID, 10, 64)
	u := webhook.TemplateStatusUpdate{Event: ev.Event, MessageTemplateID: id, MessageTemplateName: ev.Template.Name,
		MessageTemplateLanguage: ev.Template.Language, Reason: webhook.Reason(ev.Reason),
		MessageTemplateCategory: ev.Template.Category}
	body, err := webhook.TemplateStatus(ev.Business, ev.At, u)
	if err == nil {
		err = w.enqueue(ctx, ev.Business, "", "templates/"+ev.Template.ID, ev.Template.ID+"/"+ev.Event+"/"+ev.At.String(), body)
	}
	if err != nil {
		// After the change was committed (service.BusinessEvents is called
		// after commit); the template's status stays readable through the
		// API.
		w.Log.Error("template status webhook not queued", "template", ev.Template.ID, "event", ev.Event, "err", err)
	}
}

// ResolveEndpoint implements webhook.EndpointResolver.
func (w *Webhooks) ResolveEndpoint(ctx context.Context, id string) (webhook.Endpoint, error) {
	waba, rest, ok1 := strings.Cut(id, "/")
	app, number, ok2 := strings.Cut(rest, "/")
	if !ok1 || !ok2 {
		return webhook.Endpoint{}, parley.Errorf(parley.ENOTFOUND, "not an endpoint id of the business platform")
	}
	targets, err := w.Business.WebhookTargets(ctx, waba, number)
	if err != nil {
		return webhook.Endpoint{}, err
	}
	for _, t := range targets {
		if t.App == app {
			return webhook.Endpoint{URL: t.URL, Secret: []byte(t.AppSecret), MaxChanges: t.MaxChanges}, nil
		}
	}
	return webhook.Endpoint{}, parley.Errorf(parley.ENOTFOUND, "app %s no longer receives webhooks of %s", app, waba)
}
