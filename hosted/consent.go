package hosted

import (
	"context"
	"encoding/json"

	"github.com/parley-chat/parley"
	"github.com/parley-chat/parley/sdk"
)

// BusinessConsent is the opt-in ledger as hosted business devices use it
// (service.Consent).
type BusinessConsent interface {
	// MarketingAllowed: may the business send marketing templates to
	// the customer (a recorded opt-in, not withdrawn)?
	MarketingAllowed(ctx context.Context, business, customer string) (bool, error)
	// KeywordAction: is text one of the business's opt-out or opt-in
	// keywords (parley.ConsentOptOut, ConsentOptIn, or "")?
	KeywordAction(ctx context.Context, business, text string) (string, error)
	// CustomerChoice records the customer's own opt-out or opt-in of
	// marketing with its webhook; a repeated opt-out is ECONFLICT.
	CustomerChoice(ctx context.Context, n *parley.BusinessNumber, customer, action, source, evidence string) (*parley.ConsentEntry, error)
}

// consentKeyword records an opt-out (or opt-in) when a customer's text is
// one of the business's keywords. The message itself was reported as
// usual.
func (b *Business) consentKeyword(ctx context.Context, n *parley.BusinessNumber, e *sdk.Message, in *InboundMessage) error {
	if b.Consent == nil || e.Err != nil || e.Type != "text" {
		return nil
	}
	action, err := b.Consent.KeywordAction(ctx, n.Business, e.Text)
	if err != nil || action == "" {
		return err
	}
	return b.customerChoice(ctx, n, e.From, action, parley.SourceKeyword, "message "+in.WAMID+": "+e.Text)
}

// consentSwitch records the marketing switch of a customer's client.
func (b *Business) consentSwitch(ctx context.Context, n *parley.BusinessNumber, e *sdk.Message, in *InboundMessage) error {
	var p sdk.ConsentPayload
	if b.Consent == nil || e.Err != nil || json.Unmarshal(e.Raw, &p) != nil {
		return nil
	}
	action := parley.ConsentOptOut
	if p.Marketing {
		action = parley.ConsentOptIn
	}
	return b.customerChoice(ctx, n, e.From, action, parley.SourceClientSwitch, "switch in the client, message "+in.WAMID)
}

// customerChoice records a choice unless it is the current state already
// (a repeated STOP, or an event handled again after a crash): the ledger
// then stays as it is and no webhook goes out again.
func (b *Business) customerChoice(ctx context.Context, n *parley.BusinessNumber, customer, action, source, evidence string) error {
	if action == parley.ConsentOptIn {
		ok, err := b.Consent.MarketingAllowed(ctx, n.Business, customer)
		if err != nil || ok {
			return err
		}
	}
	_, err := b.Consent.CustomerChoice(ctx, n, customer, action, source, evidence)
	if parley.ErrorReason(err) == parley.ReasonConsentReplay {
		b.Log.Info("business device: opt-out repeated; nothing recorded", "number", n.ID)
		return nil
	}
	return err
}
