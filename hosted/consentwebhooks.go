package hosted

import (
	"context"
	"strconv"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/service"
	"github.com/parley-chat/parley/webhook"
)

var _ service.ConsentWebhooks = (*Webhooks)(nil)

// ConsentEvents implements service.ConsentWebhooks: a customer's own
// marketing opt-out (or opt-in) becomes a user_preferences webhook, one
// event per subscribed app, in the customer's conversation order. The
// events are committed with the ledger entry.
func (w *Webhooks) ConsentEvents(ctx context.Context, n *parley.BusinessNumber, e *parley.ConsentEntry) ([]parley.WebhookEvent, error) {
	body, err := webhook.MarketingPreference(n.Business, metadata(n), webhook.Contact{WaID: e.Customer, Profile: webhook.Profile{Name: e.Customer}},
		e.Action == parley.ConsentOptOut, e.RecordedAt)
	if err != nil {
		return nil, err
	}
	targets, err := w.Business.WebhookTargets(ctx, n.Business, n.ID)
	if err != nil {
		return nil, err
	}
	id := "consent/" + e.Business + "/" + e.Customer + "/" + e.Action + "/" + strconv.FormatInt(e.RecordedAt.UnixMicro(), 10)
	events := make([]parley.WebhookEvent, 0, len(targets))
	for _, t := range targets {
		events = append(events, parley.WebhookEvent{ID: eventID(id, t.App), Endpoint: n.Business + "/" + t.App + "/" + n.ID,
			Key: n.ID + "/" + e.Customer, Body: body, CreatedAt: w.Clock.Now()})
	}
	return events, nil
}
