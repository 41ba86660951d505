package hosted

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parley-chat/parley/sdk"
)

func TestReferralOf(t *testing.T) {
	tests := []struct {
		name, raw string
		want      *sdk.Referral
	}{
		{"qr", `{"type":"text","text":"hi","referral":{"source_type":"qr","source_id":"ABCDEFGHIJKLMN","source_url":"https://x.test/message/ABCDEFGHIJKLMN?src=qr","body":"hi"}}`,
			&sdk.Referral{SourceType: "qr", SourceID: "ABCDEFGHIJKLMN", SourceURL: "https://x.test/message/ABCDEFGHIJKLMN?src=qr", Body: "hi"}},
		{"button", `{"type":"image","referral":{"source_type":"website_button","source_url":"http://shop.test/plants","source_id":"spring"}}`,
			&sdk.Referral{SourceType: "website_button", SourceURL: "http://shop.test/plants", SourceID: "spring"}},
		{"none", `{"type":"text","text":"hi"}`, nil},
		{"adIsMeta'sOnly", `{"referral":{"source_type":"ad","source_url":"https://x.test/"}}`, nil},
		{"scriptURL", `{"referral":{"source_type":"link","source_url":"javascript:alert(1)"}}`, nil},
		{"noHost", `{"referral":{"source_type":"link","source_url":"https:///x"}}`, nil},
		{"longID", `{"referral":{"source_type":"link","source_url":"https://x.test/","source_id":"` + strings.Repeat("a", 129) + `"}}`, nil},
		{"wrongShape", `{"referral":"qr"}`, nil},
		{"notJSON", `{`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := referralOf([]byte(tt.raw))
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("referralOf = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// FuzzReferralOf: whatever a customer's client sends, a referral that is
// passed on has a known type, an http(s) URL with a host and bounded
// valid UTF-8 fields.
func FuzzReferralOf(f *testing.F) {
	f.Add([]byte(`{"type":"text","referral":{"source_type":"qr","source_url":"https://x.test/m","source_id":"A","body":"b"}}`))
	f.Add([]byte(`{"referral":{"source_type":"link","source_url":"http://[::1]:80/"}}`))
	f.Add([]byte(`{"referral":null}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r := referralOf(raw)
		if r == nil {
			return
		}
		u, err := url.Parse(r.SourceURL)
		switch {
		case r.SourceType != sdk.ReferralLink && r.SourceType != sdk.ReferralShortLink && r.SourceType != sdk.ReferralQR && r.SourceType != sdk.ReferralWebsiteButton:
			t.Fatalf("type %q passed", r.SourceType)
		case err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https"):
			t.Fatalf("URL %q passed", r.SourceURL)
		case len(r.SourceID) > 128 || len(r.Body) > 1024 || len(r.Headline) > 256 || !utf8.ValidString(r.Body+r.SourceID+r.Headline):
			t.Fatalf("unbounded fields passed: %+v", r)
		}
	})
}
