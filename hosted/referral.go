package hosted

import (
	"encoding/json"
	"net/url"
	"unicode/utf8"

	"github.com/parley-chat/parley/sdk"
)

// referralOf reads the referral a customer's client attached to a
// message (sdk.Referral): where the chat was started. It is passed on
// only when it is well formed — a known source type, an http(s) source
// URL, bounded strings — and dropped otherwise (the message itself is
// delivered either way). The server cannot verify it; docs/webhooks.md
// says so.
func referralOf(raw []byte) *sdk.Referral {
	var p struct {
		Referral *sdk.Referral `json:"referral"`
	}
	if json.Unmarshal(raw, &p) != nil || p.Referral == nil {
		return nil
	}
	r := p.Referral
	switch r.SourceType {
	case sdk.ReferralLink, sdk.ReferralShortLink, sdk.ReferralQR, sdk.ReferralWebsiteButton:
	default:
		return nil
	}
	u, err := url.Parse(r.SourceURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(r.SourceURL) > 2048 {
		return nil
	}
	if !short(r.SourceID, 128) || !short(r.Body, 1024) || !short(r.Headline, 256) {
		return nil
	}
	return r
}

func short(s string, n int) bool { return len(s) <= n && utf8.ValidString(s) }
