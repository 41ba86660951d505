package sdk

import "encoding/json"

// Referral says how a customer came to a business chat: a click-to-chat
// link, a short link, a QR code or a website button. The customer's
// client puts it into the first message it sends from a chat opened that
// way ("referral" next to the payload's other fields); the business's
// hosted device passes it on in the inbound webhook as Meta's referral
// object. It is the customer client's statement, not verified by the
// server: attribution data, never authorization.
//
//	{"type":"text","text":"Hello","referral":{"source_type":"qr","source_id":"4O4YGZEG3RIVE1","source_url":"https://…/message/4O4YGZEG3RIVE1?src=qr","body":"Hello"}}
type Referral struct {
	SourceURL  string `json:"source_url"`
	SourceID   string `json:"source_id,omitempty"` // the code of a short link or QR code; the campaign ref of a link or button
	SourceType string `json:"source_type"`         // one of the Referral* constants
	Body       string `json:"body,omitempty"`      // the prefilled text the chat was opened with
	Headline   string `json:"headline,omitempty"`
}

// Referral source types (Meta uses "ad" and "post" for its ads).
const (
	ReferralLink          = "link"           // https://HOST/c/<digits>?text=… or /send?phone=…
	ReferralShortLink     = "short_link"     // https://HOST/message/<CODE>
	ReferralQR            = "qr"             // the QR image of a code (its link with src=qr)
	ReferralWebsiteButton = "website_button" // the embeddable "Chat with us" button
)

// TextReferralPayload is a text message carrying a referral.
func TextReferralPayload(text string, r *Referral) []byte {
	b, _ := json.Marshal(Payload{Type: "text", Text: text, Referral: r})
	return b
}
