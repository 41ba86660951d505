package sdk

import "encoding/json"

// PayloadConsent is the marketing switch of a business chat: a customer's
// client sends it, end-to-end encrypted like any message, to the
// business's number; the business's hosted device records an opt-out or
// opt-in of marketing in the business's consent ledger (source
// client_switch) and tells the business by a user_preferences webhook.
//
//	{"type":"consent","marketing":false}
const PayloadConsent = "consent"

// ConsentPayload carries the switch.
type ConsentPayload struct {
	Type      string `json:"type"` // PayloadConsent
	Marketing bool   `json:"marketing"`
}

// ConsentPayloadFor returns the payload that turns marketing messages
// from the business on or off.
func ConsentPayloadFor(marketing bool) []byte {
	b, _ := json.Marshal(ConsentPayload{Type: PayloadConsent, Marketing: marketing})
	return b
}
